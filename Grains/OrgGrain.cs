using System.Globalization;
using Credentials.Grains.Blobs;
using Credentials.Grains.Images;
using Credentials.Grains.Issuers;
using Credentials.Grains.Storage;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Credentials.Grains;

/// <summary>
/// Owns one org: its platform record and its issuers. Every read is served from memory. A write
/// changes memory in one synchronous turn, then waits for the group commit that makes it durable,
/// so the grain is reentrant: while one batch is being written, the next requests are already
/// being validated and joining the next batch.
/// </summary>
[Reentrant]
public sealed partial class OrgGrain(ChunkStore store, IBlobStore blobs, TimeProvider clock, ILogger<OrgGrain> logger) : Grain, IOrgGrain, IIncomingGrainCallFilter
{
    /// <summary>Bounds the in-memory state of one org.</summary>
    public const int MaxIssuersPerOrg = 250_000;
    public const int MaxImagesPerOrg = 1_000_000;
    /// <summary>Image records are small: more of them fit a bounded chunk.</summary>
    private const int ImagesPerChunk = 512;
    /// <summary>An unreferenced blob younger than this may belong to an upload still on its way.</summary>
    private static readonly TimeSpan OrphanGrace = TimeSpan.FromMinutes(15);

    private string Org => this.GetPrimaryKeyString();
    private Platform? _platform;
    private SingleRow<PlatformRecord> _platformRow = null!;
    private SingleRow<TokenSet> _tokens = null!;
    private ChunkedCollection<Issuer> _issuers = null!;
    private ChunkedCollection<ImageRecord> _images = null!;
    // Blob bookkeeping: records per hash, uploads checking a hash right now, hashes being deleted.
    private readonly Dictionary<string, int> _blobRefs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _pendingAdds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _collecting = new(StringComparer.Ordinal);
    private readonly ImageNameIndex _imageNames = new();
    private GroupCommit _commit = null!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _issuers = new ChunkedCollection<Issuer>($"{Org}/issuers", i => i.EntityId, IssuerSize);
        _images = new ChunkedCollection<ImageRecord>($"{Org}/images", ImageKey, i => 160 + i.Name.Length * 2, ImagesPerChunk);
        _commit = new GroupCommit(store, TakeChanges, OnCommitFailed);
        _platformRow = new SingleRow<PlatformRecord>($"{Org}/platform");
        _tokens = new SingleRow<TokenSet>($"{Org}/tokens");
        try
        {
            await _platformRow.LoadAsync(store);
            if (_platformRow.Value is null) return;
            await _tokens.LoadAsync(store);
            WarnIfRepaired("issuers", await _issuers.LoadAsync(store));
            WarnIfRepaired("images", await _images.LoadAsync(store));
        }
        catch (Exception ex) when (StorageFailures.IsStorageFailure(ex))
        {
            // The caller gets the activation's exception: ours crosses the wire, a driver's does not.
            LogStorageFailed(logger, ex, Org);
            throw new StorageUnavailableException();
        }
        var platform = _platformRow.Value;
        _platform = new Platform(platform.Key, platform.Name, platform.Created);
        // Reference counts come from every record loaded, those behind a chunk gap included.
        for (var i = 0; i < _images.Count; i++)
        {
            Reference(_images[i].Sha256, +1);
            _imageNames.Add(_images[i].Id, _images[i].Name);
        }
        // Blobs left behind by a crash between a blob write and its record are collected a minute
        // after activation and hourly while the org stays active.
        this.RegisterGrainTimer(CollectOrphansAsync, new GrainTimerCreationOptions(TimeSpan.FromMinutes(1), TimeSpan.FromHours(1)));
    }

    private static string ImageKey(ImageRecord image) => image.Id.ToString(CultureInfo.InvariantCulture);

    public async Task<Outcome<Platform>> CreatePlatform(string? name)
    {
        if (_platform is not null) return Outcome<Platform>.Invalid("key", "A platform with this key already exists.");
        var trimmed = string.IsNullOrWhiteSpace(name) ? Org : name.Trim();
        if (IssuerRules.CodePoints(trimmed) > 255 || IssuerRules.HasControlCharacter(trimmed))
        {
            return Outcome<Platform>.Invalid("name", "Ensure this field has no more than 255 characters and no control characters.");
        }
        var created = clock.GetUtcNow();
        created = created.AddTicks(-(created.Ticks % TimeSpan.TicksPerMillisecond));
        _platform = new Platform(Org, trimmed, created);
        _platformRow.Set(new PlatformRecord(Org, trimmed, created));
        await _commit.CommitAsync();
        return new Outcome<Platform>(OutcomeStatus.Created, _platform);
    }

    public Task<Platform?> GetPlatform() => Task.FromResult(_platform);

    public async Task<Outcome<IssuedToken>> CreateToken(string name)
    {
        if (_platform is null) return Outcome<IssuedToken>.OrgNotFound;
        if (!ApiTokens.IsValidName(name)) return Outcome<IssuedToken>.Invalid("name", "Use 1 to 64 letters, digits, '.', '_' or '-'.");
        var live = _tokens.Value?.Tokens ?? [];
        if (live.Any(t => t.Name == name)) return Outcome<IssuedToken>.Invalid("name", "A live token with this name already exists.");
        if (live.Length >= ApiTokens.MaxPerOrg) return Outcome<IssuedToken>.Invalid("name", $"A platform may hold at most {ApiTokens.MaxPerOrg} live tokens.");

        var secret = ApiTokens.NewSecret(Org);
        var created = clock.GetUtcNow();
        _tokens.Set(new TokenSet([.. live, new StoredToken(name, ApiTokens.Hash(secret), created)]));
        await _commit.CommitAsync();
        return new Outcome<IssuedToken>(OutcomeStatus.Created, new IssuedToken(name, secret, created));
    }

    public Task<Outcome<IReadOnlyList<ApiTokenInfo>>> ListTokens()
    {
        if (_platform is null) return Task.FromResult(Outcome<IReadOnlyList<ApiTokenInfo>>.OrgNotFound);
        IReadOnlyList<ApiTokenInfo> tokens = (_tokens.Value?.Tokens ?? []).Select(t => new ApiTokenInfo(t.Name, t.Created)).ToArray();
        return Task.FromResult(new Outcome<IReadOnlyList<ApiTokenInfo>>(OutcomeStatus.Ok, tokens));
    }

    public async Task<Outcome<bool>> RevokeToken(string name)
    {
        if (_platform is null) return Outcome<bool>.OrgNotFound;
        var live = _tokens.Value?.Tokens ?? [];
        if (!live.Any(t => t.Name == name)) return Outcome<bool>.NotFound;
        _tokens.Set(new TokenSet(live.Where(t => t.Name != name).ToArray()));
        await _commit.CommitAsync();
        return new Outcome<bool>(OutcomeStatus.Ok, true);
    }

    public Task<string?> AuthenticateToken(byte[] tokenHash)
    {
        string? match = null;
        // Every live token is compared, in constant time each, whatever matches first.
        foreach (var token in _tokens?.Value?.Tokens ?? [])
        {
            if (System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(token.Hash, tokenHash)) match = token.Name;
        }
        return Task.FromResult(match);
    }

    public Task<Outcome<IssuerPage>> ListIssuers(string? query, int offset, int limit)
    {
        if (_platform is null) return Task.FromResult(Outcome<IssuerPage>.OrgNotFound);
        if (string.IsNullOrEmpty(query))
        {
            var count = _issuers.Count;
            var end = (int)Math.Min((long)offset + limit, count);
            var items = new Issuer[Math.Max(0, end - offset)];
            for (var i = 0; i < items.Length; i++) items[i] = _issuers[offset + i];
            return Task.FromResult(new Outcome<IssuerPage>(OutcomeStatus.Ok, new IssuerPage(count, items)));
        }

        var matched = 0;
        var page = new List<Issuer>(Math.Min(limit, 64));
        foreach (var issuer in _issuers.Where(i => i.Name.Contains(query, StringComparison.OrdinalIgnoreCase)))
        {
            if (matched >= offset && page.Count < limit) page.Add(issuer);
            matched++;
        }
        return Task.FromResult(new Outcome<IssuerPage>(OutcomeStatus.Ok, new IssuerPage(matched, page)));
    }

    public Task<Outcome<Issuer>> GetIssuer(string entityId)
    {
        if (_platform is null) return Task.FromResult(Outcome<Issuer>.OrgNotFound);
        return Task.FromResult(_issuers.TryGet(entityId, out var issuer)
            ? new Outcome<Issuer>(OutcomeStatus.Ok, issuer)
            : Outcome<Issuer>.NotFound);
    }

    public async Task<Outcome<Issuer>> CreateIssuer(IssuerInput input)
    {
        if (_platform is null) return Outcome<Issuer>.OrgNotFound;
        string entityId;
        if (input.EntityId is { IsSet: true, Value: not null } requested && requested.Value.Length > 0)
        {
            entityId = requested.Value;
            if (!IssuerRules.IsValidEntityId(entityId))
                return Outcome<Issuer>.Invalid(Merge(input, "entityId", "Use 1 to 64 letters, digits, '_' or '-'."));
            if (_issuers.TryGet(entityId, out _))
                return Outcome<Issuer>.Invalid(Merge(input, "entityId", "An issuer with this entityId already exists."));
        }
        else
        {
            do entityId = IssuerRules.NewEntityId(); while (_issuers.TryGet(entityId, out _));
        }

        var (issuer, errors) = IssuerRules.Apply(input, current: null, patch: false, entityId);
        if (errors is not null) return Outcome<Issuer>.Invalid(errors);
        if (_issuers.Count >= MaxIssuersPerOrg)
            return Outcome<Issuer>.Invalid("entityId", $"This platform already holds the maximum of {MaxIssuersPerOrg} issuers.");

        _issuers.Add(issuer!, _issuers.NextSeq());
        await _commit.CommitAsync();
        return new Outcome<Issuer>(OutcomeStatus.Created, issuer);
    }

    public Task<Outcome<Issuer>> ReplaceIssuer(string entityId, IssuerInput input) => Update(entityId, input, patch: false);

    public Task<Outcome<Issuer>> PatchIssuer(string entityId, IssuerInput input) => Update(entityId, input, patch: true);

    private async Task<Outcome<Issuer>> Update(string entityId, IssuerInput input, bool patch)
    {
        if (_platform is null) return Outcome<Issuer>.OrgNotFound;
        if (!_issuers.TryGet(entityId, out var current)) return Outcome<Issuer>.NotFound;
        // entityId is the issuer's identity: an entityId in the body is ignored.
        var (issuer, errors) = IssuerRules.Apply(input with { EntityId = Field<string>.Unset }, current, patch, entityId);
        if (errors is not null) return Outcome<Issuer>.Invalid(errors);
        _issuers.Replace(entityId, issuer!);
        await _commit.CommitAsync();
        return new Outcome<Issuer>(OutcomeStatus.Ok, issuer);
    }

    public async Task<Outcome<bool>> DeleteIssuer(string entityId)
    {
        if (_platform is null) return Outcome<bool>.OrgNotFound;
        if (!_issuers.TryGet(entityId, out _)) return Outcome<bool>.NotFound;
        _issuers.Remove(entityId);
        await _commit.CommitAsync();
        return new Outcome<bool>(OutcomeStatus.Ok, true);
    }

    public async Task<Outcome<ImageRecord>> AddImage(ImageUpload upload)
    {
        if (_platform is null) return Outcome<ImageRecord>.OrgNotFound;
        var (name, error) = ImageRules.Name(upload.Name, upload.FileName, upload.Extension);
        if (error is not null) return Outcome<ImageRecord>.Invalid("name", error);
        if (_images.Count >= MaxImagesPerOrg)
            return Outcome<ImageRecord>.Invalid("image", $"This platform already holds the maximum of {MaxImagesPerOrg} images.");

        var hash = upload.Sha256;
        if (_collecting.Contains(hash)) return new Outcome<ImageRecord>(OutcomeStatus.BlobMissing);
        if (!_blobRefs.ContainsKey(hash))
        {
            // While this upload checks its blob, the blob cannot be collected.
            _pendingAdds[hash] = _pendingAdds.GetValueOrDefault(hash) + 1;
            bool exists;
            try
            {
                exists = await blobs.ExistsAsync(Org, hash);
            }
            finally
            {
                if (--_pendingAdds[hash] == 0) _pendingAdds.Remove(hash);
            }
            if (!exists) return new Outcome<ImageRecord>(OutcomeStatus.BlobMissing);
        }

        var image = new ImageRecord(_images.NextSeq(), name!, hash, upload.Extension, upload.Length, upload.Width, upload.Height, clock.GetUtcNow());
        _images.Add(image, image.Id);
        _imageNames.Add(image.Id, image.Name);
        Reference(hash, +1);
        await _commit.CommitAsync();
        return new Outcome<ImageRecord>(OutcomeStatus.Created, image);
    }

    public Task<Outcome<IReadOnlyList<ImageRecord>>> SearchImages(string query, int offset, int limit)
    {
        if (_platform is null) return Task.FromResult(Outcome<IReadOnlyList<ImageRecord>>.OrgNotFound);
        var ids = _imageNames.Search(query, offset, limit);
        var found = new ImageRecord[ids.Count];
        for (var i = 0; i < found.Length; i++) _images.TryGet(ids[i].ToString(CultureInfo.InvariantCulture), out found[i]);
        return Task.FromResult(new Outcome<IReadOnlyList<ImageRecord>>(OutcomeStatus.Ok, found));
    }

    public Task<Outcome<ImageRecord>> GetImage(long id)
    {
        if (_platform is null) return Task.FromResult(Outcome<ImageRecord>.OrgNotFound);
        return Task.FromResult(_images.TryGet(id.ToString(CultureInfo.InvariantCulture), out var image)
            ? new Outcome<ImageRecord>(OutcomeStatus.Ok, image)
            : Outcome<ImageRecord>.NotFound);
    }

    public async Task<Outcome<bool>> DeleteImage(long id)
    {
        if (_platform is null) return Outcome<bool>.OrgNotFound;
        var key = id.ToString(CultureInfo.InvariantCulture);
        if (!_images.TryGet(key, out var image)) return Outcome<bool>.NotFound;
        _images.Remove(key);
        _imageNames.Remove(id, LiveImageNames);
        Reference(image.Sha256, -1);
        await _commit.CommitAsync();
        // Only once the record's removal is durable may its bytes go.
        if (!_blobRefs.ContainsKey(image.Sha256)) await CollectAsync(image.Sha256);
        return new Outcome<bool>(OutcomeStatus.Ok, true);
    }

    private IEnumerable<(long Id, string Name)> LiveImageNames()
    {
        for (var i = 0; i < _images.Count; i++) yield return (_images[i].Id, _images[i].Name);
    }

    private void Reference(string hash, int delta)
    {
        var count = _blobRefs.GetValueOrDefault(hash) + delta;
        if (count > 0) _blobRefs[hash] = count;
        else _blobRefs.Remove(hash);
    }

    /// <summary>Deletes a blob no record uses and no upload is checking; uploads of it meanwhile are told to put it again.</summary>
    private async Task CollectAsync(string hash)
    {
        if (_blobRefs.ContainsKey(hash) || _pendingAdds.ContainsKey(hash) || !_collecting.Add(hash)) return;
        try
        {
            await blobs.DeleteAsync(Org, hash);
        }
        catch (Exception ex)
        {
            // The blob stays, unreferenced; the next orphan sweep takes it.
            LogCollectFailed(logger, ex, Org);
        }
        finally
        {
            _collecting.Remove(hash);
        }
    }

    private async Task CollectOrphansAsync(CancellationToken cancellationToken)
    {
        if (_platform is null) return;
        var cutoff = clock.GetUtcNow() - OrphanGrace;
        var orphans = new List<string>();
        await foreach (var (hash, stored) in blobs.ListAsync(Org, cancellationToken))
        {
            if (stored < cutoff && !_blobRefs.ContainsKey(hash)) orphans.Add(hash);
        }
        foreach (var hash in orphans) await CollectAsync(hash);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete an unreferenced blob of org {Org}; a later sweep will.")]
    private static partial void LogCollectFailed(ILogger logger, Exception exception, string org);

    private static Dictionary<string, string[]> Merge(IssuerInput input, string field, string message)
    {
        var errors = input.ParseErrors?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [];
        errors[field] = errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];
        return errors;
    }

    private static int IssuerSize(Issuer issuer)
    {
        var size = 64 + issuer.EntityId.Length + issuer.Name.Length + (issuer.Email?.Length ?? 0)
            + (issuer.Url?.Length ?? 0) + (issuer.IconImage?.Length ?? 0);
        if (issuer.AllowedTemplateTags is { } tags) foreach (var tag in tags) size += tag.Length + 3;
        foreach (var (key, value) in issuer.Signatories) size += key.Length + value.Length + 6;
        return size * 2;
    }

    private List<IPendingWrite> TakeChanges()
    {
        var writes = new List<IPendingWrite>();
        if (_platformRow.TakeChange() is { } platform) writes.Add(platform);
        if (_tokens.TakeChange() is { } tokens) writes.Add(tokens);
        foreach (var chunk in _issuers.TakeChanges()) writes.Add(chunk);
        foreach (var chunk in _images.TakeChanges()) writes.Add(chunk);
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
