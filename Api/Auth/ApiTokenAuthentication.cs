using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Credentials.Api.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Auth;

/// <summary>
/// <c>Authorization: Api-Token &lt;token&gt;</c> (or <c>Api-Key</c>, as ibl.ai's SDK sends it).
/// Writes 401 and 403 as problem+json with a <c>WWW-Authenticate</c> challenge.
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    AdminToken adminToken,
    OrgTokenCache orgTokens,
    OrgDirectoryCache orgs,
    ClientAddressLimiter addresses)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0 || Context.IsCredentialFree()) return AuthenticateResult.NoResult();

        var token = TokenOf(header);
        if (token is null) return AuthenticateResult.NoResult();
        if (token.Length is 0 or > 512) return AuthenticateResult.Fail("Malformed token.");

        var hash = Grains.ApiTokens.Hash(token);
        if (adminToken.Matches(hash))
        {
            return Success([new Claim(CredentialClaims.Kind, CredentialClaims.SuperAdmin)]);
        }

        // An org token names its org, whose grain holds the hashes of its live tokens. Anything
        // not shaped like one is refused here, before any lookup.
        if (Grains.ApiTokens.OrgOf(token) is not { } org || !Grains.OrgKeys.IsValid(org))
        {
            return AuthenticateResult.Fail("Malformed token.");
        }
        if (!orgTokens.TryGetCached(org, hash, out var name))
        {
            // B6: a grain is asked only for an address not over its failed-credentials budget
            // (the rate-limit middleware then answers 429) and only about an org that exists.
            if (!addresses.HasPermit(Context.Connection.RemoteIpAddress)) return AuthenticateResult.Fail("Too many requests without valid credentials.");
            if (!await orgs.ExistsAsync(org)) return AuthenticateResult.Fail("Unknown or revoked token.");
            name = await orgTokens.AuthenticateAsync(org, hash);
        }
        if (name is null) return AuthenticateResult.Fail("Unknown or revoked token.");
        return Success([
            new Claim(CredentialClaims.Kind, CredentialClaims.OrgToken),
            new Claim(CredentialClaims.Org, org),
            new Claim(CredentialClaims.Role, CredentialClaims.AdminRole),
            new Claim(CredentialClaims.TokenName, name),
        ]);
    }

    private static AuthenticateResult Success(Claim[] claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));

    /// <summary>The token after an <c>Api-Token</c> or <c>Api-Key</c> prefix, or null for other schemes.</summary>
    private static string? TokenOf(string header)
    {
        foreach (var scheme in (ReadOnlySpan<string>)["Api-Token ", "Api-Key "])
        {
            if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return header[scheme.Length..].Trim();
        }
        return null;
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Problems.WriteUnauthorizedAsync(Context, "Api-Token realm=\"credentials\", Bearer realm=\"credentials\"");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteForbiddenAsync(Context);
}
