using System.Security.Claims;

namespace Credentials.Api.Auth;

/// <summary>The claims our authentication handlers issue, whatever the credential.</summary>
public static class CredentialClaims
{
    /// <summary>What kind of credential authenticated the caller.</summary>
    public const string Kind = "credential_kind";
    public const string SuperAdmin = "superadmin";
    public const string OrgToken = "org_token";
    public const string User = "user";

    /// <summary>The org (platform) the credential belongs to; absent for the super-admin.</summary>
    public const string Org = "org";
    /// <summary>The user id of a user token (JWT <c>sub</c>).</summary>
    public const string Subject = "sub";
    /// <summary><c>admin</c> or <c>student</c>; org tokens act as <c>admin</c>.</summary>
    public const string Role = "role";
    public const string TokenName = "token_name";

    public const string AdminRole = "admin";
    public const string StudentRole = "student";

    public static bool IsSuperAdmin(this ClaimsPrincipal user) => user.HasClaim(Kind, SuperAdmin);

    /// <summary>
    /// The key that identifies a credential for rate limiting: the token, or for a user token the
    /// user within its org. Null when the caller is anonymous.
    /// </summary>
    public static string? RateLimitKey(this ClaimsPrincipal user) => user.FindFirstValue(Kind) switch
    {
        SuperAdmin => "superadmin",
        OrgToken => $"token:{user.FindFirstValue(Org)}:{user.FindFirstValue(TokenName)}",
        User => $"user:{user.FindFirstValue(Org)}:{user.FindFirstValue(Subject)}",
        _ => null,
    };
}
