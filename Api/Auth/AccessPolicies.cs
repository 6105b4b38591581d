using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Credentials.Api.Auth;

/// <summary>
/// The contract's access rules, expressed once as policies and applied to route groups. Handlers
/// never check credentials themselves.
/// </summary>
public static class AccessPolicies
{
    /// <summary>IsAdminUserOrStudent: may read and create under <c>/orgs/{org}/users/{user_id}/</c>.</summary>
    public const string OrgMember = "org-member";
    /// <summary>May change or delete an org's existing items, read its platform and manage its tokens.</summary>
    public const string OrgAdmin = "org-admin";
    /// <summary>May create platforms.</summary>
    public const string SuperAdmin = "super-admin";

    public static IServiceCollection AddCredentialsAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<AdminToken>();
        services.AddSingleton<OrgTokenCache>();
        services.AddSingleton<OrgDirectoryCache>();
        services.TryAddTimeProvider();
        var jwt = configuration.GetSection("Auth:Jwt").Get<JwtOptions>() ?? new JwtOptions();
        services.AddOptions<JwtOptions>().Bind(configuration.GetSection("Auth:Jwt")).ValidateDataAnnotations()
            .Validate(o => string.IsNullOrEmpty(o.SigningKey) || Encoding.UTF8.GetByteCount(o.SigningKey) >= 32,
                "Auth:Jwt:SigningKey must be at least 32 bytes.")
            .ValidateOnStart();

        // The Api-Token handler is the default and hands a Bearer header to the JWT handler itself:
        // a policy scheme in front of both cost a second handler per request (~2 % of a page read).
        var authentication = services.AddAuthentication(ApiTokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, options =>
            {
                // null: the Api-Token handler answers (authenticate, challenge and forbid alike).
                options.ForwardDefaultSelector = context =>
                    jwt.Enabled && !context.IsCredentialFree()
                    && context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                        ? JwtBearerDefaults.AuthenticationScheme
                        : null;
            });
        if (jwt.Enabled) authentication.AddJwtBearer(options => ConfigureJwt(options, jwt));

        services.AddSingleton<IAuthorizationHandler, OrgAccessHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(OrgMember, p => p.RequireAuthenticatedUser().AddRequirements(new OrgAccessRequirement(AdminOnly: false)))
            .AddPolicy(OrgAdmin, p => p.RequireAuthenticatedUser().AddRequirements(new OrgAccessRequirement(AdminOnly: true)))
            .AddPolicy(SuperAdmin, p => p.RequireAuthenticatedUser().RequireClaim(CredentialClaims.Kind, CredentialClaims.SuperAdmin));
        return services;
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider))) services.AddSingleton(TimeProvider.System);
    }

    /// <summary>
    /// User tokens (B1): HS256 with the configured key, or the OIDC authority's keys; <c>exp</c>
    /// required with 30 s of skew; issuer and audience checked when configured; <c>role</c> must be
    /// <c>admin</c>, <c>student</c> or absent.
    /// </summary>
    private static void ConfigureJwt(JwtBearerOptions options, JwtOptions jwt)
    {
        options.MapInboundClaims = false;
        if (!string.IsNullOrEmpty(jwt.Authority)) options.Authority = jwt.Authority;
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = !string.IsNullOrEmpty(jwt.Issuer),
            ValidIssuer = jwt.Issuer,
            ValidateAudience = !string.IsNullOrEmpty(jwt.Audience),
            ValidAudience = jwt.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromSeconds(30),
            NameClaimType = CredentialClaims.Subject,
            RoleClaimType = CredentialClaims.Role,
        };
        if (!string.IsNullOrEmpty(jwt.SigningKey))
        {
            options.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwt.SigningKey));
            options.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
        }
        options.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                var principal = context.Principal!;
                var sub = principal.FindFirstValue(CredentialClaims.Subject);
                var org = principal.FindFirstValue(CredentialClaims.Org);
                // A JSON null role counts as absent, which means student.
                var roles = principal.FindAll(CredentialClaims.Role)
                    .Where(c => c.ValueType != JsonClaimValueTypes.JsonNull)
                    .Select(c => c.Value).ToArray();
                var role = roles switch
                {
                    [] => CredentialClaims.StudentRole,
                    [CredentialClaims.AdminRole] => CredentialClaims.AdminRole,
                    [CredentialClaims.StudentRole] => CredentialClaims.StudentRole,
                    _ => null,
                };
                if (string.IsNullOrEmpty(sub) || string.IsNullOrEmpty(org) || role is null
                    || context.SecurityToken is not JsonWebToken token || !HasStringClaims(token))
                {
                    context.Fail("The token needs sub and org claims, and a role of admin or student.");
                    return Task.CompletedTask;
                }
                context.Principal = new ClaimsPrincipal(new ClaimsIdentity(
                [
                    new Claim(CredentialClaims.Kind, CredentialClaims.User),
                    new Claim(CredentialClaims.Subject, sub),
                    new Claim(CredentialClaims.Org, org),
                    new Claim(CredentialClaims.Role, role),
                ], JwtBearerDefaults.AuthenticationScheme, CredentialClaims.Subject, CredentialClaims.Role));
                return Task.CompletedTask;
            },
            OnChallenge = async context =>
            {
                context.HandleResponse();
                var challenge = context.AuthenticateFailure is null
                    ? "Bearer realm=\"credentials\", Api-Token realm=\"credentials\""
                    : "Bearer realm=\"credentials\", error=\"invalid_token\"";
                await Problems.WriteUnauthorizedAsync(context.HttpContext, challenge);
            },
            OnForbidden = async context =>
            {
                await Problems.WriteForbiddenAsync(context.HttpContext);
            },
        };
    }

    /// <summary>
    /// <c>sub</c> and <c>org</c> are JSON strings and <c>role</c> a string or null: the handler
    /// turns an array into one claim per element, so <c>"role": ["admin"]</c> would otherwise pass.
    /// </summary>
    private static bool HasStringClaims(JsonWebToken token)
    {
        using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
        var root = payload.RootElement;
        return root.TryGetProperty(CredentialClaims.Subject, out var sub) && sub.ValueKind == JsonValueKind.String
            && root.TryGetProperty(CredentialClaims.Org, out var org) && org.ValueKind == JsonValueKind.String
            && (!root.TryGetProperty(CredentialClaims.Role, out var role)
                || role.ValueKind is JsonValueKind.String or JsonValueKind.Null);
    }
}

/// <summary>Access to the org named by the route's <c>{org}</c> (and, for students, <c>{user_id}</c>).</summary>
public sealed record OrgAccessRequirement(bool AdminOnly) : IAuthorizationRequirement;

/// <summary>
/// IsAdminUserOrStudent: the super-admin; an org token of the route's org; a user token of the
/// route's org with role admin; and, for reads and creates only, the student whose <c>sub</c> is
/// the route's <c>user_id</c>. Decided from the credential and the route alone, before any
/// lookup, so the answer never depends on whether the org exists.
/// </summary>
public sealed class OrgAccessHandler : AuthorizationHandler<OrgAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, OrgAccessRequirement requirement)
    {
        var user = context.User;
        if (user.IsSuperAdmin())
        {
            context.Succeed(requirement);
            return Task.CompletedTask;
        }
        if (context.Resource is not HttpContext http) return Task.CompletedTask;

        var org = http.GetRouteValue("org") as string;
        if (org is null || user.FindFirstValue(CredentialClaims.Org) != org) return Task.CompletedTask;

        var role = user.FindFirstValue(CredentialClaims.Role);
        if (role == CredentialClaims.AdminRole)
        {
            context.Succeed(requirement);
        }
        else if (!requirement.AdminOnly
                 && http.GetRouteValue("user_id") is string userId
                 && user.FindFirstValue(CredentialClaims.Subject) == userId)
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}
