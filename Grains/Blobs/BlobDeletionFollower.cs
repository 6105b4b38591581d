using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Credentials.Grains.Blobs;

/// <summary>
/// Keeps a client-mode API node's media cache (<see cref="CachedBlobStore"/>) in step with blob
/// deletions made on the silos (ADR 0017): every <c>staleness / 4</c> it asks
/// <see cref="IBlobDeletionFeedGrain"/> what was deleted since its last answer and drops those
/// blobs, or the whole cache when the feed cannot say (new epoch, or fallen too far behind).
/// </summary>
/// <remarks>
/// A cached blob is served only while the last complete poll started less than
/// <c>staleness</c> ago, and only within <c>maxAge</c> of being loaded; otherwise it is read from the
/// store again. So a blob deleted more than <c>staleness</c> before a request is never served from
/// here (if the feed heard of it), and never past <c>maxAge</c> (if it did not).
/// </remarks>
public sealed partial class BlobDeletionFollower(
    IGrainFactory grains, TimeProvider clock, TimeSpan staleness, TimeSpan maxAge, ILogger<BlobDeletionFollower> logger)
    : BackgroundService, ICacheFreshness
{
    private readonly SemaphoreSlim _polling = new(1, 1);
    private CachedBlobStore? _cache;
    private Guid _epoch;
    private long _last;
    // Until when (clock timestamp) hits may be served: the start of the last complete poll + staleness.
    private long _currentUntil = long.MinValue;
    private bool _failing;
    // In its first 30 s without an answer the cluster client is most likely still connecting: no warning yet.
    private static readonly TimeSpan QuietStart = TimeSpan.FromSeconds(30);
    private readonly long _created = clock.GetTimestamp();
    private bool _answered;

    /// <summary>The cache to keep in step; empty when attached, so nothing before matters.</summary>
    public void Follow(CachedBlobStore cache) => _cache = cache;

    public long Now() => clock.GetTimestamp();

    /// <summary>Whether the last complete poll is recent enough for hits to be served.</summary>
    public bool IsCurrent => clock.GetTimestamp() < Volatile.Read(ref _currentUntil);

    public bool Serves(long added)
    {
        var now = clock.GetTimestamp();
        return now < Volatile.Read(ref _currentUntil) && clock.GetElapsedTime(added, now) < maxAge;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = staleness / 4;
        while (!stoppingToken.IsCancellationRequested)
        {
            await PollAsync(stoppingToken);
            try
            {
                await Task.Delay(interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One catch-up with the feed; true when it completed.</summary>
    public async Task<bool> PollAsync(CancellationToken cancellationToken = default)
    {
        await _polling.WaitAsync(cancellationToken);
        try
        {
            return await CatchUpAsync(cancellationToken);
        }
        finally
        {
            _polling.Release();
        }
    }

    private async Task<bool> CatchUpAsync(CancellationToken cancellationToken)
    {
        var started = clock.GetTimestamp();
        try
        {
            var feed = grains.GetGrain<IBlobDeletionFeedGrain>(0);
            BlobDeletions page;
            do
            {
                cancellationToken.ThrowIfCancellationRequested();
                page = await feed.Since(_epoch, _last);
                if (!page.Complete) _cache?.Clear();
                foreach (var blob in page.Items) _cache?.Evict(blob.Org, blob.Sha256);
                _epoch = page.Epoch;
                _last = page.Last;
            }
            while (page.Last < page.Head && page.Items.Length > 0);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Hits stop being served once the last complete poll is older than the staleness bound.
            if (_failing || (!_answered && clock.GetElapsedTime(_created) < QuietStart)) return false;
            // E.g. silos of an older version, without the feed: media is then read from the store.
            LogPollFailed(logger, ex);
            _failing = true;
            return false;
        }
        if (_failing) LogPollRecovered(logger);
        _failing = false;
        _answered = true;
        Volatile.Write(ref _currentUntil, started + (long)(staleness.TotalSeconds * clock.TimestampFrequency));
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot reach the blob deletion feed; the media cache serves nothing until it can.")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "The blob deletion feed answers again; the media cache serves hits.")]
    private static partial void LogPollRecovered(ILogger logger);
}
