using Microsoft.Extensions.Logging;

namespace Credentials.Grains.Blobs;

/// <summary>
/// The silos' blob store: after each delete it tells <see cref="IBlobDeletionFeedGrain"/>, which the
/// media caches of client-mode API nodes follow (ADR 0017). A delete that fails publishes nothing;
/// a publication that fails twice is logged and not retried: the feed's activation is then most
/// likely gone, and its successor's new epoch makes every node drop its cache anyway.
/// </summary>
public sealed partial class DeletionPublishingBlobStore(IBlobStore inner, IGrainFactory grains, ILogger<DeletionPublishingBlobStore> logger)
    : IBlobStore, IAsyncDisposable
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromMilliseconds(250);

    public async Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        await inner.DeleteAsync(org, sha256, cancellationToken);
        var feed = grains.GetGrain<IBlobDeletionFeedGrain>(0);
        try
        {
            await feed.Deleted(org, sha256);
        }
        catch (Exception first) when (first is not OperationCanceledException)
        {
            try
            {
                await Task.Delay(RetryAfter, CancellationToken.None);
                await feed.Deleted(org, sha256);
            }
            catch (Exception ex)
            {
                LogPublishFailed(logger, ex, org);
            }
        }
    }

    public Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        inner.PutAsync(org, sha256, content, cancellationToken);

    public Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
        inner.GetAsync(org, sha256, cancellationToken);

    public Task<Stream?> OpenReadAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(org, sha256, cancellationToken);

    public Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
        inner.ExistsAsync(org, sha256, cancellationToken);

    public IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, CancellationToken cancellationToken = default) =>
        inner.ListAsync(org, cancellationToken);

    public ValueTask DisposeAsync() => inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "A blob of org {Org} was deleted but the deletion feed could not be told; API nodes' media caches may serve it until their next epoch.")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string org);
}
