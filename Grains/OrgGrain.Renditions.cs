using Credentials.Grains.Images;
using Credentials.Grains.Storage;

namespace Credentials.Grains;

// Renditions (C2): made outside the grain (the API node renders), recorded here so their bytes
// count against the org's image quota, survive the orphan sweep and go with their source.
public sealed partial class OrgGrain
{
    private ChunkedCollection<RenditionRecord> _renditions = null!;
    /// <summary>Blob keys of stored renditions: a rendition is never the source of another.</summary>
    private readonly HashSet<string> _renditionBlobs = new(StringComparer.Ordinal);

    private void CreateRenditions() =>
        _renditions = new ChunkedCollection<RenditionRecord>($"{Org}/renditions", RenditionRules.RecordKey, RenditionRules.ChunkSize, ImagesPerChunk);

    /// <summary>After activation: the stored renditions' bytes count like an image's.</summary>
    private void CountRenditions()
    {
        for (var i = 0; i < _renditions.Count; i++) CountRendition(_renditions[i], +1);
    }

    private void CountRendition(RenditionRecord rendition, int delta)
    {
        if (rendition.Sha256 is not { } key) return;
        _blobs.Reference(key, rendition.Length, delta);
        if (delta > 0) _renditionBlobs.Add(key);
        else _renditionBlobs.Remove(key);
    }

    private bool IsImageSource(string sha256) => _blobs.IsReferenced(sha256) && !_renditionBlobs.Contains(sha256);

    public Task<Outcome<RenditionPlan>> PlanRendition(string sourceSha256, int size)
    {
        if (_platform is null) return Task.FromResult(Outcome<RenditionPlan>.OrgNotFound);
        if (!RenditionRules.IsSize(size) || !IsImageSource(sourceSha256)) return Task.FromResult(Outcome<RenditionPlan>.NotFound);
        if (_renditions.TryGet(RenditionRules.RecordKey(sourceSha256, size), out var known))
        {
            return Task.FromResult(new Outcome<RenditionPlan>(OutcomeStatus.Ok,
                new RenditionPlan(known.Failed ? RenditionState.Failed : RenditionState.Stored, known)));
        }
        // No rendering for an org whose image bytes are already at their limit; AddRendition decides on the real size.
        if (_usage.Refusal(0, 1) is { } refusal) return Task.FromResult(Outcome<RenditionPlan>.QuotaExceeded(refusal));
        return Task.FromResult(new Outcome<RenditionPlan>(OutcomeStatus.Ok, new RenditionPlan(RenditionState.ToRender)));
    }

    public async Task<Outcome<RenditionRecord>> AddRendition(RenditionRecord rendition)
    {
        if (_platform is null) return Outcome<RenditionRecord>.OrgNotFound;
        var key = RenditionRules.RecordKey(rendition);
        if (rendition.Sha256 is { } blob && blob != RenditionRules.KeyOf(rendition.SourceSha256, rendition.Size))
            return Outcome<RenditionRecord>.Invalid("sha256", "A rendition's blob key is derived from its source and size.");

        if (Refusal() is { } early) return await RefuseRenditionAsync(early, rendition.Sha256);
        if (rendition.Sha256 is { } stored && !await _blobs.IsStoredAsync(stored)) return new Outcome<RenditionRecord>(OutcomeStatus.BlobMissing);
        // Decided again in the turn that records it: other calls ran during the await.
        if (Refusal() is { } refusal) return await RefuseRenditionAsync(refusal, rendition.Sha256);

        var recorded = rendition with { Created = clock.GetUtcNow() };
        _renditions.Add(recorded, _renditions.NextSeq());
        CountRendition(recorded, +1);
        await _commit.CommitAsync();
        return new Outcome<RenditionRecord>(OutcomeStatus.Created, recorded);

        Outcome<RenditionRecord>? Refusal()
        {
            if (!RenditionRules.IsSize(rendition.Size) || !IsImageSource(rendition.SourceSha256)) return Outcome<RenditionRecord>.NotFound;
            if (_renditions.TryGet(key, out var known)) return new Outcome<RenditionRecord>(OutcomeStatus.Ok, known);
            if (rendition.Sha256 is not null && _usage.Refusal(0, rendition.Length) is { } quota) return Outcome<RenditionRecord>.QuotaExceeded(quota);
            return null;
        }
    }

    /// <summary>
    /// Bytes put for a rendition that is not recorded are used by nothing, unless a record already
    /// holds the same key (then collecting is a no-op): they go now, not at the next orphan sweep.
    /// </summary>
    private async Task<Outcome<RenditionRecord>> RefuseRenditionAsync(Outcome<RenditionRecord> refusal, string? blob)
    {
        if (blob is not null) await _blobs.CollectAsync(blob);
        return refusal;
    }

    /// <summary>
    /// Takes out the renditions of a source no image uses any more, in the turn that removes its
    /// last record, so both go in one commit; their blobs are collected once that commit is durable.
    /// </summary>
    private List<string> DropRenditions(string sourceSha256)
    {
        var blobs = new List<string>();
        foreach (var size in RenditionRules.Sizes)
        {
            var key = RenditionRules.RecordKey(sourceSha256, size);
            if (!_renditions.TryGet(key, out var rendition)) continue;
            _renditions.Remove(key);
            CountRendition(rendition, -1);
            if (rendition.Sha256 is { } blob) blobs.Add(blob);
        }
        return blobs;
    }
}
