using System.Text.Json;
using Credentials.Api.Auth;
using Credentials.Api.Contracts;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Credentials.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Apis;

/// <summary>B2: platforms (tenants).</summary>
public static class PlatformsApi
{
    public static RouteGroupBuilder MapPlatformsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/platforms").WithTags("Platforms").AddEndpointFilter<RouteKeysFilter>()
            .ProducesProblems(StatusCodes.Status400BadRequest);

        group.MapPost("/", CreatePlatform)
            .WithName("CreatePlatform")
            .WithSummary("Create a platform (super-admin).")
            .Accepts<CreatePlatformRequest>("application/json")
            .RequireAuthorization(AccessPolicies.SuperAdmin);

        group.MapGet("/", ListPlatforms)
            .WithName("ListPlatforms")
            .WithSummary("List every platform in key order, paged with limit and offset (super-admin).")
            .RequireAuthorization(AccessPolicies.SuperAdmin);

        group.MapGet("/{org}/", GetPlatform)
            .WithName("GetPlatform")
            .WithSummary("Read a platform (super-admin or org admin).")
            .ProducesProblems(StatusCodes.Status404NotFound)
            .RequireAuthorization(AccessPolicies.OrgAdmin);

        return group;
    }

    public static async Task<Results<Created<PlatformView>, ProblemHttpResult, ValidationProblem>> CreatePlatform(
        HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        if (!request.HasJsonContentType()) return Problems.UnsupportedMediaType("Send application/json.");
        if (IssuerRequestParser.LimitBody(request, options.Value.MaxBodyBytes) is ProblemHttpResult tooLarge) return tooLarge;
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException)
        {
            return Problems.BadRequest("The body must be a JSON object with \"key\" and optional \"name\" strings.");
        }
        string? key, name;
        var errors = new Dictionary<string, string[]>();
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return Problems.BadRequest("The body must be a JSON object with \"key\" and optional \"name\" strings.");
            // A field of the wrong JSON type is named in the errors, as for issuers, not a bare parse error.
            try
            {
                key = StringField(document.RootElement, "key", errors);
                name = StringField(document.RootElement, "name", errors);
            }
            catch (InvalidOperationException)
            {
                return Problems.BadRequest("The body contains a property name that is not valid Unicode text.");
            }
        }
        if (!errors.ContainsKey("key") && !OrgKeys.IsValid(key))
        {
            errors["key"] = [OrgKeys.Message];
        }
        if (errors.Count > 0) return Problems.Invalid(errors);

        var outcome = await grains.GetOrgGrain(key!).CreatePlatform(name);
        return OutcomeResults.MapWrite(outcome, key!, platform => TypedResults.Created($"/api/platforms/{key}/", PlatformView.From(platform)));
    }

    private static string? StringField(JsonElement body, string field, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty(field, out var value)) return null;
        if (value.ValueKind == JsonValueKind.String && IssuerRequestParser.TryText(value, out var text)) return text;
        if (value.ValueKind != JsonValueKind.Null) errors[field] = ["Not a valid string."];
        return null;
    }

    /// <summary>
    /// From the org directory, which knows every platform without activating their grains; the
    /// page arrives in replies of bounded size and is written as each arrives (as the issuer list).
    /// </summary>
    public static async Task<Results<StreamedJson<PlatformList>, ValidationProblem>> ListPlatforms(
        [FromQuery, IntegerQuery(1, Paging.LimitText)] string? limit, [FromQuery, IntegerQuery(0, Paging.OffsetText)] string? offset,
        HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        if (!Paging.TryParse(limit, offset, Paging.DefaultLimit, out var paging, out var problem)) return problem;

        var directory = grains.GetGrain<IOrgDirectoryGrain>(0);
        var first = await directory.ListPlatforms((int)Math.Min(paging.Offset, int.MaxValue), paging.Limit);
        var (next, previous) = paging.Neighbours(Links.BaseUrl(request, options.Value), request.PathBase.Add(request.Path).Value!, null, first.Count);

        // The shape of PlatformList, property by property.
        return new StreamedJson<PlatformList>(async writer =>
        {
            var json = writer.Json;
            json.WriteStartObject();
            json.WriteNumber("count", first.Count);
            json.WriteString("next", next);
            json.WriteString("previous", previous);
            json.WriteStartArray("results");
            var page = first;
            var remaining = paging.Limit;
            while (true)
            {
                foreach (var platform in page.Items) writer.Write(PlatformView.From(platform));
                remaining -= page.Items.Count;
                await writer.FlushAsync();
                if (page.ContinueAfter is not { } after || remaining <= 0) break;
                page = await directory.ListPlatforms(0, remaining, after);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    public static async Task<Results<Ok<PlatformView>, ProblemHttpResult>> GetPlatform(string org, IGrainFactory grains)
    {
        var platform = await grains.GetOrgGrain(org).GetPlatform();
        return platform is null ? Problems.OrgNotFound(org) : TypedResults.Ok(PlatformView.From(platform));
    }
}
