using Credentials.Grains.Issuers;
using Credentials.Grains.Quotas;

namespace Credentials.Grains;

// Issuers: validated by IssuerRules, counted against the org's record quota.
public sealed partial class OrgGrain
{
    /// <summary>Bounds the in-memory state of one org.</summary>
    public const int MaxIssuersPerOrg = 250_000;

    public Task<Outcome<IssuerPage>> ListIssuers(string? query, int offset, int limit, long after = 0)
    {
        if (_platform is null) return Task.FromResult(Outcome<IssuerPage>.OrgNotFound);
        var budget = limits.Value.MaxReplyBytes;
        var first = after > 0 ? _issuers.FirstIndexAfter(after) : 0;
        var items = new List<Issuer>(Math.Clamp(limit, 0, 64));
        long bytes = 0;
        long? continueAfter = null;
        var lastTaken = -1;

        // Takes the item at index while the page has room; false once it is full or out of bytes.
        bool Take(int index)
        {
            if (items.Count >= limit || continueAfter is not null) return false;
            var issuer = _issuers[index];
            var size = RecordSize.Of(issuer);
            if (items.Count > 0 && bytes + size > budget)
            {
                continueAfter = _issuers.SeqAt(lastTaken);
                return false;
            }
            items.Add(issuer);
            bytes += size;
            lastTaken = index;
            return true;
        }

        if (string.IsNullOrEmpty(query))
        {
            for (var i = first + (long)offset; i < _issuers.Count && Take((int)i); i++) { }
            return Task.FromResult(new Outcome<IssuerPage>(OutcomeStatus.Ok, new IssuerPage(_issuers.Count, items, continueAfter, _issuers.Version)));
        }

        // The count is of every match; the page starts after `after`, past `offset` matches.
        var matched = 0;
        var skipped = 0;
        for (var i = 0; i < _issuers.Count; i++)
        {
            if (!_issuers[i].Name.Contains(query, StringComparison.OrdinalIgnoreCase)) continue;
            matched++;
            if (i < first) continue;
            if (skipped < offset) { skipped++; continue; }
            Take(i);
        }
        return Task.FromResult(new Outcome<IssuerPage>(OutcomeStatus.Ok, new IssuerPage(matched, items, continueAfter, _issuers.Version)));
    }

    public Task<Outcome<IssuerPage>> ListIssuersUnlessUnchanged(string? query, int offset, int limit, long knownVersion)
    {
        if (_platform is not null && knownVersion == _issuers.Version)
            return Task.FromResult(new Outcome<IssuerPage>(OutcomeStatus.Ok, IssuerPage.UnchangedAt(knownVersion)));
        return ListIssuers(query, offset, limit);
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
        // A present entityId must be a valid one: an empty string is not "absent". JSON null is.
        if (input.EntityId is { IsSet: true, Value: not null } requested)
        {
            entityId = requested.Value;
            if (IssuerRules.RequestedEntityIdErrors(input, entityId, taken: _issuers.TryGet(entityId, out _)) is { } invalid)
                return Outcome<Issuer>.Invalid(invalid);
        }
        else
        {
            do entityId = IssuerRules.NewEntityId(); while (_issuers.TryGet(entityId, out _));
        }

        var (issuer, errors) = IssuerRules.Apply(input, current: null, patch: false, entityId);
        if (errors is not null) return Outcome<Issuer>.Invalid(errors);
        if (_issuers.Count >= MaxIssuersPerOrg)
            return Outcome<Issuer>.Invalid("entityId", $"This platform already holds the maximum of {MaxIssuersPerOrg} issuers.");
        var size = RecordSize.Of(issuer!);
        if (_usage.Refusal(size) is { } refusal) return Outcome<Issuer>.QuotaExceeded(refusal);

        _issuers.Add(issuer!, _issuers.NextSeq());
        _usage.AddRecordBytes(size);
        await CommitChangeAsync(EventActions.IssuerCreated, EventTarget.Issuer(issuer!.EntityId));
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
        var growth = RecordSize.Of(issuer!) - RecordSize.Of(current);
        if (_usage.Refusal(growth) is { } refusal) return Outcome<Issuer>.QuotaExceeded(refusal);
        _issuers.Replace(entityId, issuer!);
        _usage.AddRecordBytes(growth);
        await CommitChangeAsync(patch ? EventActions.IssuerPatched : EventActions.IssuerReplaced, EventTarget.Issuer(entityId));
        return new Outcome<Issuer>(OutcomeStatus.Ok, issuer);
    }

    public async Task<Outcome<bool>> DeleteIssuer(string entityId)
    {
        if (_platform is null) return Outcome<bool>.OrgNotFound;
        if (!_issuers.TryGet(entityId, out var issuer)) return Outcome<bool>.NotFound;
        _issuers.Remove(entityId);
        _usage.AddRecordBytes(-RecordSize.Of(issuer));
        await CommitChangeAsync(EventActions.IssuerDeleted, EventTarget.Issuer(entityId));
        return new Outcome<bool>(OutcomeStatus.Ok, true);
    }
}
