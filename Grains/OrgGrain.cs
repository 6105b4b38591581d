using Credentials.Grains.Blobs;
using Credentials.Grains.Images;
using Credentials.Grains.Issuers;
using Credentials.Grains.Quotas;
using Credentials.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Credentials.Grains;

/// <summary>
/// Owns one org. Every read is served from memory. A write changes memory in one synchronous turn,
/// then waits for the group commit that makes it durable, so the grain is reentrant: while one
/// batch is being written, the next requests are already being validated and joining the next batch.
/// </summary>
/// <remarks>
/// What an org does, one partial file each: <c>OrgGrain.Platform.cs</c> (the platform record),
/// <c>OrgGrain.Tokens.cs</c> (API tokens), <c>OrgGrain.Issuers.cs</c> (issuers),
/// <c>OrgGrain.Images.cs</c> (image records; their blobs are counted by <see cref="BlobBookkeeping"/>),
/// <c>OrgGrain.Renditions.cs</c> (PNG renditions of images, C2),
/// <c>OrgGrain.Events.cs</c> (the event log every change is recorded in),
/// <c>OrgGrain.Idempotency.cs</c> (Idempotency-Keys and their kept answers).
/// This file holds what they share: activation, the commit and the call filter.
/// </remarks>
[Reentrant]
public sealed partial class OrgGrain(ChunkStore store, IBlobStore blobs, TimeProvider clock, IOptions<OrgLimits> limits, LocalIssuerVersions localVersions, ILogger<OrgGrain> logger) : Grain, IOrgGrain, IIncomingGrainCallFilter
{
    private static readonly TimeSpan MissingOrgLifetime = TimeSpan.FromSeconds(1);

    private string Org => this.GetPrimaryKeyString();
    private Platform? _platform;
    private SingleRow<PlatformRecord> _platformRow = null!;
    private SingleRow<TokenSet> _tokens = null!;
    private ChunkedCollection<Issuer> _issuers = null!;
    private ChunkedCollection<ImageRecord> _images = null!;
    private readonly ImageNameIndex _imageNames = new();
    private GroupCommit _commit = null!;
    /// <summary>Bytes stored against the org's limits, kept in step with the records.</summary>
    private readonly OrgUsage _usage = new(limits.Value);
    private BlobBookkeeping _blobs = null!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _issuers = new ChunkedCollection<Issuer>($"{Org}/issuers", i => i.EntityId, IssuerRules.ChunkSize);
        _images = new ChunkedCollection<ImageRecord>($"{Org}/images", ImageKey, ImageRules.ChunkSize, ImagesPerChunk);
        _events = NewEventLog();
        CreateRenditions();
        _blobs = new BlobBookkeeping(Org, blobs, _usage, clock, logger);
        _commit = new GroupCommit(store, TakeChanges, OnCommitFailed);
        _platformRow = new SingleRow<PlatformRecord>(StoredOrgs.PlatformKey(Org));
        _tokens = new SingleRow<TokenSet>($"{Org}/tokens");
        _webhooks = new SingleRow<Webhooks.WebhookSet>($"{Org}/webhooks");
        _idempotency = NewIdempotencyLedger();
        try
        {
            await _platformRow.LoadAsync(store);
            if (_platformRow.Value is null)
            {
                // An org that does not exist keeps no activation for long (unless this call creates its platform).
                this.RegisterGrainTimer(() => { if (_platform is null) DeactivateOnIdle(); return Task.CompletedTask; },
                    new GrainTimerCreationOptions(MissingOrgLifetime, Timeout.InfiniteTimeSpan));
                return;
            }
            await _tokens.LoadAsync(store);
            await _webhooks.LoadAsync(store);
            WarnIfRepaired("issuers", await _issuers.LoadAsync(store));
            WarnIfRepaired("images", await _images.LoadAsync(store));
            WarnIfRepaired("events", await _events.LoadAsync(store));
            _notifiedEventId = _events.LastId; // what was loaded is durable: change feeds may read it
            WarnIfRepaired("renditions", await _renditions.LoadAsync(store));
            WarnIfRepaired("idempotency keys", await _idempotency.LoadAsync(store));
        }
        catch (Exception ex) when (StorageFailures.IsStorageFailure(ex))
        {
            // The caller gets the activation's exception: ours crosses the wire, a driver's does not.
            LogStorageFailed(logger, ex, Org);
            throw new StorageUnavailableException();
        }
        var platform = _platformRow.Value;
        _platform = new Platform(platform.Key, platform.Name, platform.Created);
        ResealWebhookSecrets();
        // Usage is recomputed from what storage holds, never carried over: it cannot drift.
        for (var i = 0; i < _issuers.Count; i++) _usage.AddRecordBytes(RecordSize.Of(_issuers[i]));
        // Reference counts come from every record loaded, those behind a chunk gap included.
        for (var i = 0; i < _images.Count; i++)
        {
            _blobs.Reference(_images[i], +1);
            _usage.AddRecordBytes(RecordSize.Of(_images[i]));
            _imageNames.Add(_images[i].Id, _images[i].Name);
        }
        CountRenditions();
        // Blobs left behind by a crash between a blob write and its record are collected a minute
        // after activation and hourly while the org stays active.
        this.RegisterGrainTimer(_blobs.CollectOrphansAsync, new GrainTimerCreationOptions(TimeSpan.FromMinutes(1), TimeSpan.FromHours(1)));
        localVersions.Show(Org, _issuers);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        localVersions.Withdraw(Org, _issuers);
        return Task.CompletedTask;
    }

    private List<IPendingWrite> TakeChanges()
    {
        var writes = new List<IPendingWrite>(TakeImageBlobs());
        if (_platformRow.TakeChange() is { } platform) writes.Add(platform);
        if (_tokens.TakeChange() is { } tokens) writes.Add(tokens);
        if (_webhooks.TakeChange() is { } webhooks) writes.Add(webhooks);
        foreach (var chunk in _issuers.TakeChanges()) writes.Add(chunk);
        foreach (var chunk in _images.TakeChanges()) writes.Add(chunk);
        foreach (var chunk in _renditions.TakeChanges()) writes.Add(chunk);
        // After the changes: should rows ever be written one by one, an event is never stored
        // before its change, and a key only after the change whose answer it keeps.
        foreach (var chunk in _events.TakeChanges(clock.GetUtcNow())) writes.Add(chunk);
        foreach (var chunk in _idempotency.TakeChanges()) writes.Add(chunk);
        return writes;
    }

    /// <summary>Set when a commit failed: memory may hold what storage refused.</summary>
    private bool _broken;

    /// <summary>
    /// After a failed commit nothing is served from memory until the grain has reloaded; a storage
    /// or blob failure leaves the grain as <see cref="StorageUnavailableException"/>.
    /// </summary>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (_broken) throw new StorageUnavailableException();
        try
        {
            await context.Invoke();
        }
        catch (Exception ex) when (StorageFailures.IsStorageFailure(ex))
        {
            LogStorageFailed(logger, ex, Org);
            throw new StorageUnavailableException();
        }
    }

    private void WarnIfRepaired(string collection, ChunkLoad load)
    {
        if (!load.IsClean) LogChunkRepair(logger, Org, collection, load.Chunks, load.Gaps, load.DroppedItems);
    }

    private void OnCommitFailed(Exception exception)
    {
        _broken = true;
        localVersions.Withdraw(Org, _issuers);
        LogCommitFailed(logger, exception, Org);
        // Memory holds changes storage did not take: start again from what storage has.
        DeactivateOnIdle();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage unavailable for org {Org}; answered StorageUnavailableException.")]
    private static partial void LogStorageFailed(ILogger logger, Exception exception, string org);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Org {Org}: {Collection} loaded {Chunks} chunks past {Gaps} gaps in their numbering and dropped {Dropped} duplicate items (the next commit rewrites their chunks).")]
    private static partial void LogChunkRepair(ILogger logger, string org, string collection, int chunks, int gaps, int dropped);

    [LoggerMessage(Level = LogLevel.Error, Message = "Commit failed for org {Org}; the grain will reload from storage.")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, string org);
}
