using System.ComponentModel.DataAnnotations;

namespace Credentials.Api.Extensions;

/// <summary>Section <c>Auth</c>.</summary>
public sealed class AuthOptions : IValidatableObject
{
    public const int AdminTokenMinLength = 32;

    /// <summary>The platform super-admin token (at least 32 characters). When empty, one is generated on first start.</summary>
    public string? AdminToken { get; set; }

    /// <summary>How long an API node trusts its last answer about an org token (0–5 s).</summary>
    [Range(0, 5)]
    public int TokenCacheSeconds { get; set; } = 2;

    public JwtOptions Jwt { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // The message never repeats the token.
        if (string.IsNullOrEmpty(AdminToken)) yield break;
        if (AdminToken.Contains("REPLACE-ME", StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult("Auth:AdminToken is still the example's placeholder: set a long random secret.", [nameof(AdminToken)]);
        }
        else if (AdminToken.Length < AdminTokenMinLength)
        {
            yield return new ValidationResult(
                $"Auth:AdminToken must be at least {AdminTokenMinLength} characters (it has {AdminToken.Length}): use a long random secret, or leave it unset to have one generated.",
                [nameof(AdminToken)]);
        }
    }
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
