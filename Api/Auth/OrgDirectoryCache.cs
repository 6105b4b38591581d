using System.Collections.Concurrent;
using Credentials.Grains;

namespace Credentials.Api.Auth;

/// <summary>
/// This node's copy of the org directory (<see cref="IOrgDirectoryGrain"/>): which orgs exist, so an
/// org token naming any other org is refused with a set lookup, no grain activated and nothing
/// remembered about it. The copy only grows with real orgs.
/// </summary>
/// <remarks>
/// An org this node does not know triggers a catch-up with the directory, one at a time (callers
/// missing meanwhile share it) and at most once per <see cref="MinRefreshInterval"/>; a miss in
/// between is answered from the copy. So a platform created through another node is accepted here
/// immediately, or within a second while this node is being asked about unknown orgs.
/// </remarks>
public sealed class OrgDirectoryCache(IGrainFactory grains, TimeProvider clock)
{
    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, byte> _orgs = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private Task? _refresh;
    private long _refreshStarted;
    // Where this copy stands in the directory's list; only the one running refresh touches them.
    private Guid _epoch;
    private int _position;

    /// <summary>Orgs known on this node.</summary>
    public int Count => _orgs.Count;

    public ValueTask<bool> ExistsAsync(string org)
    {
        if (_orgs.ContainsKey(org)) return ValueTask.FromResult(true);
        var refresh = RefreshIfDue();
        return refresh is null ? ValueTask.FromResult(false) : AfterRefresh(refresh, org);
    }

    private async ValueTask<bool> AfterRefresh(Task refresh, string org)
    {
        await refresh;
        return _orgs.ContainsKey(org);
    }

    private Task? RefreshIfDue()
    {
        lock (_gate)
        {
            if (_refresh is { IsCompleted: false }) return _refresh;
            var now = clock.GetTimestamp();
            if (_refresh is not null && clock.GetElapsedTime(_refreshStarted, now) < MinRefreshInterval) return null;
            _refreshStarted = now;
            return _refresh = RefreshAsync();
        }
    }

    private async Task RefreshAsync()
    {
        var directory = grains.GetGrain<IOrgDirectoryGrain>(0);
        while (true)
        {
            var changes = await directory.GetChanges(_epoch, _position);
            // Orgs are never removed, so a new epoch only restarts the position; the copy keeps what it knows.
            _epoch = changes.Epoch;
            foreach (var org in changes.Orgs) _orgs.TryAdd(org, 0);
            _position = changes.Position + changes.Orgs.Length;
            if (_position >= changes.Total || changes.Orgs.Length == 0) return;
        }
    }
}
