using Credentials.Grains.Quotas;
using Credentials.Grains.Storage;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Credentials.Grains;

/// <summary>
/// The platforms that exist. Its durable record is the platform rows themselves: at activation it
/// reads them from storage, and an org grain registers its platform once the record is durable and
/// before the create is acknowledged. So nothing is lost when this grain moves or restarts, and it
/// writes nothing of its own. Memory is one platform record (key, name, date) per real org, about
/// 0.2–1.5 KB each; callers never add unknown orgs.
/// </summary>
public sealed class OrgDirectoryGrain(StorageBackend storage, IOptions<ClusterOptions> cluster, IOptions<OrgLimits> limits)
    : Grain, IOrgDirectoryGrain
{
    /// <summary>Bounds one reply: a node catching up on a large directory asks page by page.</summary>
    public const int PageSize = 10_000;

    // A new list order per activation: nodes holding a position in an older one start over.
    private readonly Guid _epoch = Guid.NewGuid();
    // Registration order, for the API nodes' catch-up (GetChanges).
    private readonly List<string> _orgs = [];
    // Key order (ordinal), for listing; also answers "is it known".
    private readonly List<Platform> _byKey = [];

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The database drivers may block (SQLite does its I/O synchronously): off the grain's scheduler.
        var stored = await Task.Run(() => StoredOrgs.ListAsync(storage, cluster.Value.ServiceId, cancellationToken), cancellationToken);
        stored.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var platform in stored) Add(platform);
    }

    public Task Register(Platform platform)
    {
        Add(platform);
        return Task.CompletedTask;
    }

    public Task<OrgDirectoryChanges> GetChanges(Guid epoch, int position)
    {
        if (epoch != _epoch || position < 0 || position > _orgs.Count) position = 0;
        var page = _orgs.GetRange(position, Math.Min(PageSize, _orgs.Count - position)).ToArray();
        return Task.FromResult(new OrgDirectoryChanges(_epoch, position, page, _orgs.Count));
    }

    public Task<PlatformPage> ListPlatforms(int offset, int limit, string? after = null)
    {
        var first = after is null ? Math.Max(0, offset) : NextIndex(after);
        var budget = limits.Value.MaxReplyBytes;
        var items = new List<Platform>(Math.Clamp(limit, 0, 64));
        long bytes = 0;
        string? continueAfter = null;
        for (var i = first; i < _byKey.Count && items.Count < limit; i++)
        {
            var size = RecordSize.Of(_byKey[i]);
            if (items.Count > 0 && bytes + size > budget)
            {
                continueAfter = items[^1].Key;
                break;
            }
            items.Add(_byKey[i]);
            bytes += size;
        }
        return Task.FromResult(new PlatformPage(_byKey.Count, items, continueAfter));
    }

    private void Add(Platform platform)
    {
        var index = IndexOf(platform.Key);
        if (index >= 0) return;
        _byKey.Insert(~index, platform);
        _orgs.Add(platform.Key);
    }

    /// <summary>The index of <paramref name="key"/> in key order, or the complement of where it would go.</summary>
    private int IndexOf(string key)
    {
        int low = 0, high = _byKey.Count - 1;
        while (low <= high)
        {
            var middle = low + (high - low) / 2;
            var order = string.CompareOrdinal(_byKey[middle].Key, key);
            if (order == 0) return middle;
            if (order < 0) low = middle + 1;
            else high = middle - 1;
        }
        return ~low;
    }

    /// <summary>The index of the first key after <paramref name="key"/>.</summary>
    private int NextIndex(string key)
    {
        var index = IndexOf(key);
        return index >= 0 ? index + 1 : ~index;
    }
}
