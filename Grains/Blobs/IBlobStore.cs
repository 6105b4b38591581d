namespace Credentials.Grains.Blobs;

/// <summary>
/// Image bytes, content-addressed per org: one blob per (org, SHA-256), so identical bytes in an
/// org are stored once. Puts are idempotent; nothing here knows which records use a blob — the
/// org grain counts references and decides when a blob may go.
/// </summary>
public interface IBlobStore
{
    /// <summary>Stores the bytes unless a blob with this hash is already there.</summary>
    Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>The bytes, whole in memory, or null when there is no such blob. Media is served through <see cref="OpenReadAsync"/>.</summary>
    Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default);

    /// <summary>
    /// The blob as a read-only, seekable stream whose <see cref="Stream.Length"/> is known before any
    /// byte is read, or null when there is no such blob. Reads fetch what they are asked for and no
    /// more (at most <see cref="BlobStores.ReadChunkBytes"/> at a time is worth asking for), so a slow
    /// reader costs its own buffer, never the whole blob. A failure to open is a
    /// <see cref="StorageUnavailableException"/>; a failure mid-read is an <see cref="IOException"/>.
    /// </summary>
    Task<Stream?> OpenReadAsync(string org, string sha256, CancellationToken cancellationToken = default);

    Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default);

    Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default);

    /// <summary>Every blob of the org with when it was stored, for collecting the unreferenced.</summary>
    IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, CancellationToken cancellationToken = default);
}
