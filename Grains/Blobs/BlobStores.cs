using Credentials.Grains.Storage;

namespace Credentials.Grains.Blobs;

public static class BlobStores
{
    /// <summary>
    /// How much of a blob one read is worth: the PostgreSQL store fetches at most this much per query,
    /// and media copies through a buffer of this size, so a reader holds this much, never the blob.
    /// </summary>
    public const int ReadChunkBytes = 256 * 1024;

    /// <summary>
    /// Files beside the SQLite database for the embedded default; PostgreSQL for clusters. Either is
    /// scoped to the Orleans service id, as grain state is, so services sharing a database or a data
    /// folder never see (or delete) each other's bytes.
    /// </summary>
    public static IBlobStore For(StorageBackend backend, string serviceId) => new TracedBlobStore(backend switch
    {
        PostgreSqlStorage postgres => new PostgreSqlBlobStore(postgres.BlobConnectionString, serviceId),
        SqliteStorage { DataDirectory: { } directory } => new FileBlobStore(Path.Combine(directory, "blobs", SafeSegment(serviceId))),
        _ => throw new NotSupportedException($"No blob store for {backend.Name}."),
    });

    /// <summary>A service id as one folder name: anything but letters, digits, '-', '_' and '.' becomes '_'.</summary>
    private static string SafeSegment(string value)
    {
        var chars = value.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        var segment = new string(chars).Trim('.');
        return segment.Length == 0 ? "_" : segment;
    }
}
