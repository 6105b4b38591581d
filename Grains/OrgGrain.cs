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
public sealed partial class OrgGrain(ChunkStore store, TimeProvider clock, ILogger<OrgGrain> logger) : Grain, IOrgGrain
{
    /// <summary>Bounds the in-memory state of one org.</summary>
    public const int MaxIssuersPerOrg = 250_000;

    private string Org => this.GetPrimaryKeyString();
    private Platform? _platform;
    private SingleRow<PlatformRecord> _platformRow = null!;
    private SingleRow<TokenSet> _tokens = null!;
    private ChunkedCollection<Issuer> _issuers = null!;
    private GroupCommit _commit = null!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _issuers = new ChunkedCollection<Issuer>($"{Org}/issuers", i => i.EntityId, IssuerSize);
        _commit = new GroupCommit(store, TakeChanges, OnCommitFailed);
        _platformRow = new SingleRow<PlatformRecord>($"{Org}/platform");
        _tokens = new SingleRow<TokenSet>($"{Org}/tokens");
        await _platformRow.LoadAsync(store);
        if (_platformRow.Value is not { } platform) return;
        _platform = new Platform(platform.Key, platform.Name, platform.Created);
        await _tokens.LoadAsync(store);
        await _issuers.LoadAsync(store);
    }

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
        return writes;
    }

    private void OnCommitFailed(Exception exception)
    {
        LogCommitFailed(logger, exception, Org);
        // Memory holds changes storage did not take: start again from what storage has.
        DeactivateOnIdle();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Commit failed for org {Org}; the grain will reload from storage.")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, string org);
}
