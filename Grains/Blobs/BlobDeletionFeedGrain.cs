namespace Credentials.Grains.Blobs;

/// <summary>
/// The last <see cref="Capacity"/> blob deletions of the cluster, numbered from 1 per activation
/// (<see cref="IBlobDeletionFeedGrain"/>). Nothing is stored: losing the list (a silo's death, or
/// deactivation when no node polls) only makes the next poll of every node start a new epoch,
/// which drops their caches.
/// </summary>
public sealed class BlobDeletionFeedGrain : Grain, IBlobDeletionFeedGrain
{
    /// <summary>How many deletions a node may fall behind before it has to drop its whole cache.</summary>
    public const int Capacity = 16_384;

    /// <summary>Bounds one reply.</summary>
    public const int PageSize = 4_096;

    private readonly Guid _epoch = Guid.NewGuid();
    private readonly DeletedBlob[] _ring = new DeletedBlob[Capacity];
    // Number of the newest deletion; deletion n sits at _ring[(n - 1) % Capacity].
    private long _head;

    public Task Deleted(string org, string sha256)
    {
        _head++;
        _ring[(_head - 1) % Capacity] = new DeletedBlob(org, sha256);
        return Task.CompletedTask;
    }

    public Task<BlobDeletions> Since(Guid epoch, long after)
    {
        var oldestKnown = Math.Max(0, _head - Capacity);
        if (epoch != _epoch || after < oldestKnown || after > _head)
        {
            return Task.FromResult(new BlobDeletions(_epoch, Complete: false, _head, _head, []));
        }
        var count = (int)Math.Min(PageSize, _head - after);
        var items = new DeletedBlob[count];
        for (var i = 0; i < count; i++) items[i] = _ring[(after + i) % Capacity];
        return Task.FromResult(new BlobDeletions(_epoch, Complete: true, after + count, _head, items));
    }
}
