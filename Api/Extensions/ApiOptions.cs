using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Credentials.Api.Extensions;

/// <summary>Section <c>Api</c>: how the front end forms URLs, whom it believes about them, and what bodies it accepts.</summary>
public sealed class ApiOptions : IValidatableObject
{
    /// <summary>Absolute base URL used in links (pagination, media); else taken from the request.</summary>
    [Url]
    public string? PublicBaseUrl { get; set; }

    /// <summary>
    /// Proxies (comma-separated IP addresses) whose X-Forwarded-For/Proto/Host are honoured: the
    /// client address (rate limits) and the links' scheme and host then come from them.
    /// </summary>
    public string? KnownProxies { get; set; }

    /// <summary>Networks (comma-separated CIDR, e.g. <c>10.0.0.0/8</c>) whose every address is such a proxy.</summary>
    public string? KnownNetworks { get; set; }

    /// <summary>Removed: it trusted forwarding headers from anyone. Setting it true fails start-up.</summary>
    public bool TrustForwardedHeaders { get; set; }

    /// <summary>The valid entries of <see cref="KnownProxies"/> (start-up validation reports the others).</summary>
    public IEnumerable<IPAddress> Proxies() =>
        Split(KnownProxies).Select(p => IPAddress.TryParse(p, out var address) ? address : null).OfType<IPAddress>();

    public IEnumerable<IPNetwork> Networks() =>
        Split(KnownNetworks).Select(n => IPNetwork.TryParse(n, out var network) ? (IPNetwork?)network : null).OfType<IPNetwork>();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TrustForwardedHeaders)
        {
            yield return new ValidationResult("Api:TrustForwardedHeaders was removed: list your proxies in Api:KnownProxies or Api:KnownNetworks instead.",
                [nameof(TrustForwardedHeaders)]);
        }
        foreach (var proxy in Split(KnownProxies).Where(p => !IPAddress.TryParse(p, out _)))
        {
            yield return new ValidationResult($"Api:KnownProxies: '{proxy}' is not an IP address.", [nameof(KnownProxies)]);
        }
        foreach (var network in Split(KnownNetworks).Where(n => !IPNetwork.TryParse(n, out _)))
        {
            yield return new ValidationResult($"Api:KnownNetworks: '{network}' is not a network in CIDR notation (e.g. 10.0.0.0/8).", [nameof(KnownNetworks)]);
        }
    }

    private static string[] Split(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Largest JSON or form body accepted for issuer and platform writes.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public long MaxBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>Section <c>Auth</c>.</summary>
public sealed class AuthOptions
{
    /// <summary>The platform super-admin token. When empty, one is generated on first start.</summary>
    public string? AdminToken { get; set; }

    /// <summary>How long an API node trusts its last answer about an org token (0–5 s).</summary>
    [Range(0, 5)]
    public int TokenCacheSeconds { get; set; } = 2;

    public JwtOptions Jwt { get; set; } = new();
}

/// <summary>Section <c>Auth:Jwt</c>: user tokens (<c>Authorization: Bearer</c>).</summary>
public sealed class JwtOptions
{
    /// <summary>HS256 key (UTF-8, at least 32 bytes) for self-hosted user tokens.</summary>
    public string? SigningKey { get; set; }

    /// <summary>An OIDC authority whose published keys sign user tokens (instead of a signing key).</summary>
    public string? Authority { get; set; }

    /// <summary>Checked against <c>iss</c> when set.</summary>
    public string? Issuer { get; set; }

    /// <summary>Checked against <c>aud</c> when set.</summary>
    public string? Audience { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(SigningKey) || !string.IsNullOrEmpty(Authority);
}

/// <summary>Section <c>RateLimiting</c> (B2b).</summary>
public sealed class RateLimitingOptions
{
    public bool Enabled { get; set; } = true;

    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 200;

    [Range(1, 10_000_000)]
    public int Burst { get; set; } = 1000;

    /// <summary>Refill rate of each client address's bucket for calls without valid credentials (none, or refused).</summary>
    [Range(1, 1_000_000)]
    public int AnonymousPermitsPerSecond { get; set; } = 100;

    [Range(1, 10_000_000)]
    public int AnonymousBurst { get; set; } = 500;
}
