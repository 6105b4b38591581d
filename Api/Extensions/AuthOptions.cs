using System.ComponentModel.DataAnnotations;

namespace Credentials.Api.Extensions;

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
