using System.Collections.Concurrent;
using Credentials.Grains;

namespace Credentials.Api.Auth;

/// <summary>
/// This node's copy of the org directory (<see cref="IOrgDirectoryGrain"/>): which orgs exist, so an
/// org token naming any other org is refused after a set lookup, with no org grain activated and
/// nothing remembered about it. The copy only grows with real orgs.
/// </summary>
/// <remarks>
/// An org this node does not know makes it catch up with the directory before answering. Catch-ups
/// run one at a time and start at most once per <see cref="MinRefreshInterval"/>; every caller
/// that missed meanwhile waits for the next one and shares it. So an org created anywhere is known
/// here on its first use (after at most one interval when unknown orgs keep arriving), and a flood
/// of unknown orgs costs the directory a few calls a second per node, not one per request.
/// </remarks>
public sealed class OrgDirectoryCache(IGrainFactory grains, TimeProvider clock)
{
    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<string, byte> _orgs = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    // The catch-up that callers missing now will wait for: it has not asked the directory yet.
    private Task? _next;
    // The one asking the directory now, or last.
    private Task _current = Task.CompletedTask;
    private long _lastStarted;
    // Where this copy stands in the directory's list; only the one running catch-up touches them.
    private Guid _epoch;
    private int _position;

    /// <summary>Orgs known on this node.</summary>
    public int Count => _orgs.Count;

    public ValueTask<bool> ExistsAsync(string org)
    {
        if (_orgs.ContainsKey(org)) return ValueTask.FromResult(true);
        return AfterCatchUp(NextCatchUp(), org);
    }

    private async ValueTask<bool> AfterCatchUp(Task catchUp, string org)
    {
        await catchUp;
        return _orgs.ContainsKey(org);
    }

    private Task NextCatchUp()
    {
        lock (_gate) return _next ??= ScheduleAsync(_current);
    }

    private async Task ScheduleAsync(Task previous)
    {
        // Never run on inside NextCatchUp's lock: _next must be set before this clears it.
        await Task.Yield();
        try
        {
            await previous;
        }
        catch
        {
            // Its callers saw the failure; this one asks again.
        }
        var wait = MinRefreshInterval - clock.GetElapsedTime(Volatile.Read(ref _lastStarted));
        if (wait > TimeSpan.Zero) await Task.Delay(wait, clock);
        Task run;
        lock (_gate)
        {
            // From here on, a new miss needs a later catch-up: this one may already be past its answer.
            _next = null;
            _lastStarted = clock.GetTimestamp();
            _current = run = CatchUpAsync();
        }
        await run;
    }

    private async Task CatchUpAsync()
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
