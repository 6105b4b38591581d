using Orleans.Concurrency;

namespace Credentials.Grains;

/// <summary>
/// Blob deletions in the order the silos made them, one grain per cluster (key 0), kept in memory
/// only: client-mode API nodes poll it to drop deleted blobs from their media cache (ADR 0017).
/// A new activation starts a new <see cref="BlobDeletions.Epoch"/>; a node that followed an older
/// one, or fell further behind than the grain remembers, is told to drop its whole cache.
/// </summary>
[Alias("credentials.blob-deletions")]
public interface IBlobDeletionFeedGrain : IGrainWithIntegerKey
{
    /// <summary>Records that a blob is gone from the store (called after the store's delete).</summary>
    [Alias("deleted")]
    Task Deleted(string org, string sha256);

    /// <summary>The deletions after number <paramref name="after"/> of <paramref name="epoch"/>, a bounded page at a time.</summary>
    [Alias("since"), ReadOnly]
    Task<BlobDeletions> Since(Guid epoch, long after);
}

/// <summary>One deleted blob.</summary>
[GenerateSerializer, Immutable, Alias("credentials.deleted-blob.v1")]
public readonly record struct DeletedBlob([property: Id(0)] string Org, [property: Id(1)] string Sha256);

/// <summary>
/// A page of the feed: <see cref="Items"/> are numbers <c>Last - Items.Length + 1 … Last</c>; more
/// follow while <see cref="Last"/> is below <see cref="Head"/>. Not <see cref="Complete"/>: the
/// deletions since the caller's position are unknown (new epoch, or forgotten), so it must forget
/// every cached blob and go on from <see cref="Last"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.blob-deletions.v1")]
public sealed record BlobDeletions(
    [property: Id(0)] Guid Epoch,
    [property: Id(1)] bool Complete,
    [property: Id(2)] long Last,
    [property: Id(3)] long Head,
    [property: Id(4)] DeletedBlob[] Items);
