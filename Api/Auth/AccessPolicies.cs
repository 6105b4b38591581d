using Microsoft.AspNetCore.Authorization;

namespace Credentials.Api.Auth;

/// <summary>
/// The contract's access rules, expressed once as policies and applied to route groups. Handlers
/// never check credentials themselves.
/// </summary>
public static class AccessPolicies
{
    /// <summary>IsAdminUserOrStudent: may read and create under <c>/orgs/{org}/users/{user_id}/</c>.</summary>
    public const string OrgMember = "org-member";
    /// <summary>May change or delete an org's existing issuers and images.</summary>
    public const string OrgAdmin = "org-admin";
    /// <summary>May create platforms.</summary>
    public const string SuperAdmin = "super-admin";

    public static IServiceCollection AddCredentialsAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<AdminToken>();
        services.AddAuthentication(ApiTokenAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(
                ApiTokenAuthenticationHandler.SchemeName, null);
        services.AddSingleton<IAuthorizationHandler, OrgAccessHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(OrgMember, p => p.RequireAuthenticatedUser().AddRequirements(new OrgAccessRequirement(AdminOnly: false)))
            .AddPolicy(OrgAdmin, p => p.RequireAuthenticatedUser().AddRequirements(new OrgAccessRequirement(AdminOnly: true)))
            .AddPolicy(SuperAdmin, p => p.RequireClaim(CredentialClaims.Kind, CredentialClaims.SuperAdmin));
        return services;
    }
}

/// <summary>Access to the org named by the route's <c>{org}</c> (and, for students, <c>{user_id}</c>).</summary>
public sealed record OrgAccessRequirement(bool AdminOnly) : IAuthorizationRequirement;

public sealed class OrgAccessHandler : AuthorizationHandler<OrgAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, OrgAccessRequirement requirement)
    {
        // The super-admin may act on every org. Org tokens and user tokens arrive with issue #3.
        if (context.User.HasClaim(CredentialClaims.Kind, CredentialClaims.SuperAdmin))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}
