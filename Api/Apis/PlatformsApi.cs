using System.Text.Json;
using Credentials.Api.Auth;
using Credentials.Api.Http;
using Credentials.Grains;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Credentials.Api.Apis;

/// <summary>B2: platforms (tenants).</summary>
public static class PlatformsApi
{
    public static RouteGroupBuilder MapPlatformsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/platforms").WithTags("Platforms").AddEndpointFilter<RouteKeysFilter>();

        group.MapPost("/", CreatePlatform)
            .WithName("CreatePlatform")
            .WithSummary("Create a platform (super-admin).")
            .Accepts<CreatePlatformRequest>("application/json")
            .RequireAuthorization(AccessPolicies.SuperAdmin);

        group.MapGet("/{org}/", GetPlatform)
            .WithName("GetPlatform")
            .WithSummary("Read a platform (super-admin or org admin).")
            .RequireAuthorization(AccessPolicies.OrgAdmin);

        return group;
    }

    public static async Task<Results<Created<PlatformView>, ProblemHttpResult, ValidationProblem>> CreatePlatform(
        HttpRequest request, IGrainFactory grains)
    {
        if (!request.HasJsonContentType()) return Problems.UnsupportedMediaType("Send application/json.");
        CreatePlatformRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync(ApiJsonContext.Default.CreatePlatformRequest, request.HttpContext.RequestAborted);
        }
        catch (JsonException)
        {
            return Problems.BadRequest("The body must be a JSON object with \"key\" and optional \"name\" strings.");
        }
        if (body?.Key is not { } key || !RouteKeysFilter.OrgPattern().IsMatch(key))
        {
            return Problems.Invalid("key", "A platform key is 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or digit.");
        }

        var outcome = await grains.GetGrain<IOrgGrain>(key).CreatePlatform(body.Name);
        if (!outcome.Succeeded) return Problems.Invalid(outcome.Errors!);
        return TypedResults.Created($"/api/platforms/{key}/", PlatformView.From(outcome.Value!));
    }

    public static async Task<Results<Ok<PlatformView>, ProblemHttpResult>> GetPlatform(string org, IGrainFactory grains)
    {
        var platform = await grains.GetGrain<IOrgGrain>(org).GetPlatform();
        return platform is null ? Problems.OrgNotFound(org) : TypedResults.Ok(PlatformView.From(platform));
    }
}
