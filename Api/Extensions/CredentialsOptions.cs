using System.ComponentModel.DataAnnotations;

namespace Credentials.Api.Extensions;

/// <summary>Section <c>Api</c>: how the front end forms URLs and what bodies it accepts.</summary>
public sealed class ApiOptions
{
    /// <summary>Absolute base URL used in links (pagination, media); else taken from the request.</summary>
    [Url]
    public string? PublicBaseUrl { get; set; }

    /// <summary>Honour X-Forwarded-Proto/Host/For; only behind a proxy you control.</summary>
    public bool TrustForwardedHeaders { get; set; }

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
}
