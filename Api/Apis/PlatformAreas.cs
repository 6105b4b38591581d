using Credentials.Api.Auth;
using Credentials.Api.Http;

namespace Credentials.Api.Apis;

/// <summary>The route groups under <c>/api/platforms/{org}/</c> that only the super-admin and the org's admins reach (tokens, webhooks).</summary>
public static class PlatformAreas
{
    public static RouteGroupBuilder MapOrgAdminArea(this IEndpointRouteBuilder app, string area, string tag) =>
        app.MapGroup($"/api/platforms/{{org}}/{area}")
            .WithTags(tag)
            .RequireAuthorization(AccessPolicies.OrgAdmin)
            .AddEndpointFilter<RouteKeysFilter>()
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
}
