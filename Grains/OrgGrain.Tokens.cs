using System.Security.Cryptography;
using Credentials.Grains.Storage;

namespace Credentials.Grains;

// Org API tokens: only their hashes are kept (see ApiTokens).
public sealed partial class OrgGrain
{
    public async Task<Outcome<IssuedToken>> CreateToken(string name)
    {
        if (_platform is null) return Outcome<IssuedToken>.OrgNotFound;
        var live = _tokens.Value?.Tokens ?? [];
        if (ApiTokens.NameError(name, live.Select(t => t.Name).ToArray()) is { } error) return Outcome<IssuedToken>.Invalid("name", error);

        var secret = ApiTokens.NewSecret(Org);
        var created = clock.GetUtcNow();
        _tokens.Set(new TokenSet([.. live, new StoredToken(name, ApiTokens.Hash(secret), created)]));
        await CommitChangeAsync(EventActions.TokenCreated, EventTarget.Token(name));
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
        await CommitChangeAsync(EventActions.TokenRevoked, EventTarget.Token(name));
        return new Outcome<bool>(OutcomeStatus.Ok, true);
    }

    public Task<string?> AuthenticateToken(byte[] tokenHash)
    {
        string? match = null;
        // Every live token is compared, in constant time each, whatever matches first.
        foreach (var token in _tokens?.Value?.Tokens ?? [])
        {
            if (CryptographicOperations.FixedTimeEquals(token.Hash, tokenHash)) match = token.Name;
        }
        return Task.FromResult(match);
    }
}
