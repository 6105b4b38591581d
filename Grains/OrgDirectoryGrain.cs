using Credentials.Grains.Storage;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Credentials.Grains;

/// <summary>
/// The orgs that exist. Its durable record is the platform rows themselves: at activation it lists
/// them from storage, and an org grain registers its org once the platform record is durable and
/// before the create is acknowledged. So nothing is lost when this grain moves or restarts, and it
/// writes nothing of its own. Memory is one string per real org; callers never add unknown orgs.
/// </summary>
public sealed class OrgDirectoryGrain(StorageBackend storage, IOptions<ClusterOptions> cluster) : Grain, IOrgDirectoryGrain
{
    /// <summary>Bounds one reply: a node catching up on a large directory asks page by page.</summary>
    public const int PageSize = 10_000;

    // A new list order per activation: nodes holding a position in an older one start over.
    private readonly Guid _epoch = Guid.NewGuid();
    private readonly List<string> _orgs = [];
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The database drivers may block (SQLite does its I/O synchronously): off the grain's scheduler.
        var stored = await Task.Run(() => StoredOrgs.ListAsync(storage, cluster.Value.ServiceId, cancellationToken), cancellationToken);
        stored.Sort(StringComparer.Ordinal);
        foreach (var org in stored) Add(org);
    }

    public Task Register(string org)
    {
        Add(org);
        return Task.CompletedTask;
    }

    public Task<OrgDirectoryChanges> GetChanges(Guid epoch, int position)
    {
        if (epoch != _epoch || position < 0 || position > _orgs.Count) position = 0;
        var page = _orgs.GetRange(position, Math.Min(PageSize, _orgs.Count - position)).ToArray();
        return Task.FromResult(new OrgDirectoryChanges(_epoch, position, page, _orgs.Count));
    }

    private void Add(string org)
    {
        if (_known.Add(org)) _orgs.Add(org);
    }
}
