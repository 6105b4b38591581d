using System.Collections.Concurrent;
using Credentials.Grains;
using Credentials.Grains.Blobs;
using Credentials.Grains.Images;

namespace Credentials.Api.Images;

/// <summary>How a rendition request ends once the stored bytes were not there to serve.</summary>
public enum RenditionStatus { Rendered, Stored, NotFound, QuotaExceeded }

public sealed record RenditionAnswer(RenditionStatus Status, byte[]? Png = null, string? Detail = null)
{
    public static readonly RenditionAnswer NotFound = new(RenditionStatus.NotFound);
    public static readonly RenditionAnswer Stored = new(RenditionStatus.Stored);
}

/// <summary>
/// Makes the renditions this node is asked for and the store lacks (ADR 0013): the bytes of a
/// source are looked for in the blob store before any grain is asked (a bogus hash activates
/// nothing), the org grain says whether the rendition is known, the renderer runs here, off the
/// grain's turn, and the grain records the result. Concurrent first requests for one rendition
/// share one render (single flight per node; across nodes the grain keeps the first record).
/// </summary>
public sealed partial class Renditions(IGrainFactory grains, IBlobStore blobs, RenditionRenderer renderer, ILogger<Renditions> logger)
{
    private readonly ConcurrentDictionary<string, Task<RenditionAnswer>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>Renditions being made on this node now.</summary>
    public int InFlight => _inFlight.Count;

    public Task<RenditionAnswer> MakeAsync(string org, string source, int size)
    {
        var key = $"{org}/{source}/{size}";
        while (true)
        {
            if (_inFlight.TryGetValue(key, out var running)) return running;
            var made = new TaskCompletionSource<RenditionAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_inFlight.TryAdd(key, made.Task)) continue;
            // Not tied to the first caller's request: the others wait for the same render.
            _ = RunAsync(made, key, org, source, size);
            return made.Task;
        }
    }

    private async Task RunAsync(TaskCompletionSource<RenditionAnswer> made, string key, string org, string source, int size)
    {
        try
        {
            made.SetResult(await MakeOnceAsync(org, source, size));
        }
        catch (Exception ex)
        {
            made.SetException(ex);
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
        }
    }

    private async Task<RenditionAnswer> MakeOnceAsync(string org, string source, int size)
    {
        if (!await blobs.ExistsAsync(org, source)) return RenditionAnswer.NotFound;
        var grain = grains.GetOrgGrain(org);
        var plan = await grain.PlanRendition(source, size);
        if (plan.Status == OutcomeStatus.QuotaExceeded) return new RenditionAnswer(RenditionStatus.QuotaExceeded, Detail: plan.Detail);
        if (plan is not { Status: OutcomeStatus.Ok, Value: { } known }) return RenditionAnswer.NotFound;
        if (known.State == RenditionState.Stored) return RenditionAnswer.Stored;
        if (known.State == RenditionState.Failed) return RenditionAnswer.NotFound;

        var bytes = await blobs.GetAsync(org, source);
        if (bytes is null || ImageInspector.ExtensionOf(bytes) is not { } extension) return RenditionAnswer.NotFound;
        var result = await renderer.RenderAsync(bytes, extension, size);
        RenditionRecord record;
        if (result.Png is { } png)
        {
            var blob = RenditionRules.KeyOf(source, size);
            record = new RenditionRecord(source, size, blob, png.Length, result.Width, result.Height, default);
            await blobs.PutAsync(org, blob, png);
        }
        else
        {
            LogNotRenderable(logger, org, source, size, result.Failure);
            record = new RenditionRecord(source, size, null, 0, 0, 0, default);
        }

        var added = await grain.AddRendition(record);
        if (added.Status == OutcomeStatus.BlobMissing && result.Png is { } again)
        {
            // Collected meanwhile by a refused twin from another node: put it again, once.
            await blobs.PutAsync(org, record.Sha256!, again);
            added = await grain.AddRendition(record);
        }
        return added switch
        {
            { Status: OutcomeStatus.QuotaExceeded } => new RenditionAnswer(RenditionStatus.QuotaExceeded, Detail: added.Detail),
            { Status: OutcomeStatus.Created or OutcomeStatus.Ok, Value.Failed: false } when result.Png is not null => new RenditionAnswer(RenditionStatus.Rendered, result.Png),
            { Status: OutcomeStatus.Ok, Value.Failed: false } => RenditionAnswer.Stored,
            _ => RenditionAnswer.NotFound,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rendition {Org}/{Source}/{Size} cannot be made and is remembered as such: {Reason}")]
    private static partial void LogNotRenderable(ILogger logger, string org, string source, int size, string? reason);
}
