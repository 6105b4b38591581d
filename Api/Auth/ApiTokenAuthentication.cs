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
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiToken";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0) return Task.FromResult(AuthenticateResult.NoResult());

        var token = TokenOf(header);
        if (token is null) return Task.FromResult(AuthenticateResult.NoResult());
        if (token.Length is 0 or > 512) return Task.FromResult(AuthenticateResult.Fail("Malformed token."));

        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(token), hash);
        if (adminToken.Matches(hash))
        {
            var identity = new ClaimsIdentity([new Claim(CredentialClaims.Kind, CredentialClaims.SuperAdmin)], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
        return Task.FromResult(AuthenticateResult.Fail("Unknown token."));
    }

    /// <summary>The token after an <c>Api-Token</c> or <c>Api-Key</c> prefix, or null for other schemes.</summary>
    private static string? TokenOf(string header)
    {
        foreach (var scheme in (ReadOnlySpan<string>)["Api-Token ", "Api-Key "])
        {
            if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return header[scheme.Length..].Trim();
        }
        return null;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Api-Token realm=\"credentials\", Bearer realm=\"credentials\"";
        await WriteProblem(StatusCodes.Status401Unauthorized, "Unauthorized", "Authentication credentials were not provided or are not valid.");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await WriteProblem(StatusCodes.Status403Forbidden, "Forbidden", "You do not have permission to perform this action.");
    }

    private async Task WriteProblem(int status, string title, string detail) =>
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
}

/// <summary>The claims our authentication handlers issue.</summary>
public static class CredentialClaims
{
    /// <summary>What kind of credential authenticated the caller.</summary>
    public const string Kind = "credential_kind";
    public const string SuperAdmin = "superadmin";
}
