using System.Diagnostics;
using Credentials.Grains.Hosting;

namespace Credentials.Grains.Blobs;

/// <summary>
/// A span around each blob operation (<c>blob put</c>, <c>blob get</c>, <c>blob open</c>, …) on the
/// <see cref="Telemetry.StorageSourceName"/> source, whatever the store. With no listener
/// <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null and this costs a check.
/// </summary>
public sealed class TracedBlobStore(IBlobStore inner) : IBlobStore
{
    public Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        Traced("blob put", org, sha256, async () => { await inner.PutAsync(org, sha256, content, cancellationToken); return true; });

    public Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
        Traced("blob get", org, sha256, () => inner.GetAsync(org, sha256, cancellationToken));

    /// <summary>The span covers opening (finding the blob and its length), not the reads that follow.</summary>
    public Task<Stream?> OpenReadAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
        Traced("blob open", org, sha256, () => inner.OpenReadAsync(org, sha256, cancellationToken));

    public Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
        Traced("blob exists", org, sha256, () => inner.ExistsAsync(org, sha256, cancellationToken));

    public Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
        Traced("blob delete", org, sha256, async () => { await inner.DeleteAsync(org, sha256, cancellationToken); return true; });

    public IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, CancellationToken cancellationToken = default) =>
        inner.ListAsync(org, cancellationToken);

    private static async Task<T> Traced<T>(string name, string org, string sha256, Func<Task<T>> operation)
    {
        using var span = Telemetry.StartStorage(name, org + "/" + sha256);
        if (span is null) return await operation();
        try
        {
            return await operation();
        }
        catch (Exception ex)
        {
            span.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }
}
