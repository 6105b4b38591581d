using Credentials.Api.Auth;
using Credentials.Api.Contracts;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Credentials.Api.Images;
using Credentials.Grains;
using Credentials.Grains.Blobs;
using Credentials.Grains.Images;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Required = System.ComponentModel.DataAnnotations.RequiredAttribute;

namespace Credentials.Api.Apis;

/// <summary>A1, A2, B4: an org's images. Bytes go to the blob store; the org grain keeps the index.</summary>
public static class ImagesApi
{
    public static RouteGroupBuilder MapImagesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/credentials/orgs/{org}/users/{user_id}/images")
            .WithTags("Images")
            .RequireAuthorization(AccessPolicies.OrgMember)
            .AddEndpointFilter<RouteKeysFilter>()
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);

        group.MapGet("/", SearchImages)
            .WithName("SearchImages")
            .WithSummary("Images whose name contains query (required; empty matches all), oldest first.");

        group.MapPost("/", UploadImage)
            .WithName("UploadImage")
            .WithSummary("Upload an image (multipart: image file, optional name). 200 with {id, name, image}.")
            .Accepts<ImageUploadForm>("multipart/form-data")
            .ProducesProblems(StatusCodes.Status409Conflict)
            .DisableAntiforgery();

        group.MapGet("/{id:long}/", GetImage)
            .WithName("GetImage")
            .WithSummary("Read one image record.");

        group.MapDelete("/{id:long}/", DeleteImage)
            .WithName("DeleteImage")
            .WithSummary("Delete an image (admins only); its bytes go once no image uses them.")
            .RequireAuthorization(AccessPolicies.OrgAdmin);

        return group;
    }

    /// <summary>Every match may be asked for: they are fetched in bounded grain replies and written as each arrives.</summary>
    public static async Task<Results<StreamedJson<ImageView[]>, ProblemHttpResult, ValidationProblem>> SearchImages(
        string org,
        [FromRoute(Name = "user_id")] string userId,
        [FromQuery, Required] string? query,
        [FromQuery, IntegerQuery(1, "At most this many matches (larger values are clamped to 1000); all of them when absent.")] string? limit,
        [FromQuery, IntegerQuery(0, Paging.OffsetText)] string? offset,
        HttpRequest request,
        IGrainFactory grains,
        IOptions<ApiOptions> options)
    {
        if (query is null) return Problems.Invalid("query", "This query parameter is required (an empty value matches every image).");
        if (!Paging.TryParse(limit, offset, int.MaxValue, out var paging, out var problem)) return problem;
        var grain = grains.GetOrgGrain(org);
        var outcome = await grain.SearchImages(query, (int)Math.Min(paging.Offset, int.MaxValue), paging.Limit);
        if (!outcome.Succeeded) return OutcomeResults.Problem(outcome, org);

        var baseUrl = Links.BaseUrl(request, options.Value);
        return new StreamedJson<ImageView[]>(async writer =>
        {
            writer.Json.WriteStartArray();
            var page = outcome.Value!;
            var remaining = paging.Limit;
            while (true)
            {
                foreach (var image in page.Items) writer.Write(View(baseUrl, org, image));
                remaining -= page.Items.Count;
                await writer.FlushAsync();
                if (page.ContinueAfter is not { } after || remaining <= 0) break;
                var more = await grain.SearchImages(query, 0, remaining, after);
                if (!more.Succeeded) break;
                page = more.Value!;
            }
            writer.Json.WriteEndArray();
        });
    }

    /// <summary>The protocol (limits, inspection, bytes then record) is <see cref="ImageIntake"/>'s.</summary>
    public static Task<Results<Ok<ImageView>, ProblemHttpResult, ValidationProblem>> UploadImage(
        string org,
        [FromRoute(Name = "user_id")] string userId,
        HttpRequest request,
        IGrainFactory grains,
        IBlobStore blobs,
        IOptions<ImageLimits> limits,
        IOptions<ApiOptions> options) =>
        new ImageIntake(org, grains.GetOrgGrain(org), blobs, limits.Value)
            .ReceiveAsync(request, image => TypedResults.Ok(View(Links.BaseUrl(request, options.Value), org, image)));

    public static async Task<Results<Ok<ImageView>, ProblemHttpResult>> GetImage(
        string org, [FromRoute(Name = "user_id")] string userId, long id, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        var outcome = await grains.GetOrgGrain(org).GetImage(id);
        return OutcomeResults.Map(outcome, org, image => TypedResults.Ok(View(Links.BaseUrl(request, options.Value), org, image)),
            () => Problems.NotFound($"No image with id {id}."));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteImage(
        string org, [FromRoute(Name = "user_id")] string userId, long id, IGrainFactory grains)
    {
        var outcome = await grains.GetOrgGrain(org).DeleteImage(id);
        return OutcomeResults.Map(outcome, org, _ => TypedResults.NoContent(), () => Problems.NotFound($"No image with id {id}."));
    }

    private static ImageView View(string baseUrl, string org, ImageRecord image) =>
        new(image.Id, image.Name, $"{baseUrl}{MediaApi.PathOf(org, image.Sha256, image.Extension)}");
}
