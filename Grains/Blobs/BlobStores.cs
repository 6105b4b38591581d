using Credentials.Grains.Storage;

namespace Credentials.Grains.Blobs;

public static class BlobStores
{
    /// <summary>Files beside the SQLite database for the embedded default; PostgreSQL for clusters.</summary>
    public static IBlobStore For(StorageBackend backend) => backend switch
    {
        PostgreSqlStorage => new PostgreSqlBlobStore(backend.ConnectionString),
        SqliteStorage { DataDirectory: { } directory } => new FileBlobStore(Path.Combine(directory, "blobs")),
        _ => throw new NotSupportedException($"No blob store for {backend.Name}."),
    };
}
