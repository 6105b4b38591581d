using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Credentials.Api.Auth;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Credentials.Grains;
using Credentials.Grains.Blobs;
using Credentials.Grains.Images;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Apis;

/// <summary>A1, A2, B4: an org's images. Bytes go to the blob store; the org grain keeps the index.</summary>
public static class ImagesApi
{
    /// <summary>Room for the multipart framing and the name field around a maximal file.</summary>
    public const long EnvelopeBytes = 64 * 1024;

    public static RouteGroupBuilder MapImagesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/credentials/orgs/{org}/users/{user_id}/images")
            .WithTags("Images")
            .RequireAuthorization(AccessPolicies.OrgMember)
            .AddEndpointFilter<RouteKeysFilter>();

        group.MapGet("/", SearchImages)
            .WithName("SearchImages")
            .WithSummary("Images whose name contains query (required; empty matches all), oldest first.");

        group.MapPost("/", UploadImage)
            .WithName("UploadImage")
            .WithSummary("Upload an image (multipart: image file, optional name). 200 with {id, name, image}.")
            .Accepts<ImageUploadForm>("multipart/form-data")
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
        [FromQuery] string? query,
        [FromQuery] string? limit,
        [FromQuery] string? offset,
        HttpRequest request,
        IGrainFactory grains,
        IOptions<ApiOptions> options)
    {
        if (query is null) return Problems.Invalid("query", "This query parameter is required (an empty value matches every image).");
        if (!Paging.TryParse(limit, offset, int.MaxValue, out var paging, out var problem)) return problem;
        var grain = grains.GetGrain<IOrgGrain>(org);
        var outcome = await grain.SearchImages(query, (int)Math.Min(paging.Offset, int.MaxValue), paging.Limit);
        if (outcome.Status == OutcomeStatus.OrgNotFound) return Problems.OrgNotFound(org);

        var baseUrl = Links.BaseUrl(request, options.Value);
        return new StreamedJson<ImageView[]>(async writer =>
        {
            writer.Json.WriteStartArray();
            var page = outcome.Value!;
            var remaining = paging.Limit;
            while (true)
            {
                foreach (var image in page.Items) writer.Write(ImageView.From(baseUrl, org, image));
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

    public static async Task<Results<Ok<ImageView>, ProblemHttpResult, ValidationProblem>> UploadImage(
        string org,
        [FromRoute(Name = "user_id")] string userId,
        HttpRequest request,
        IGrainFactory grains,
        IBlobStore blobs,
        IOptions<ImageLimits> limits,
        IOptions<ApiOptions> options)
    {
        var maxFile = limits.Value.MaxFileBytes;
        var maxBody = maxFile + EnvelopeBytes;
        if (request.ContentLength > maxBody) return TooLarge(maxFile);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = maxBody;
        if (!request.HasFormContentType || !request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.UnsupportedMediaType("Send multipart/form-data with the file in the \"image\" field.");
        }

        var grain = grains.GetGrain<IOrgGrain>(org);
        // Nothing is stored for an org that does not exist.
        if (await grain.GetPlatform() is null) return Problems.OrgNotFound(org);

        IFormCollection form;
        try
        {
            request.HttpContext.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions
            {
                MultipartBodyLengthLimit = maxBody,
                ValueCountLimit = 64,
                MemoryBufferThreshold = 1024 * 1024,
            }));
            form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(maxFile);
        }
        catch (Exception ex) when (ex is InvalidDataException || (ex is IOException and not BadHttpRequestException))
        {
            // A missing boundary, a truncated part, a bad part header: the client's error, not a 500.
            return Problems.BadRequest("The multipart body could not be read.");
        }

        var file = form.Files.GetFile("image");
        if (file is null) return Problems.Invalid("image", "No file was submitted in the \"image\" field.");
        if (file.Length > maxFile) return TooLarge(maxFile);

        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
        {
            await stream.ReadExactlyAsync(bytes, request.HttpContext.RequestAborted);
        }
        var (kind, refusal) = ImageInspector.Inspect(bytes, limits.Value, request.HttpContext.RequestAborted);
        if (refusal is not null)
        {
            return refusal.Unsupported
                ? Problems.UnsupportedMediaType(refusal.Detail)
                : Problems.Invalid(new Dictionary<string, string[]> { ["image"] = [refusal.Detail] }, refusal.Detail);
        }
        var name = form.TryGetValue("name", out var names) ? names[^1] : null;
        // The grain decides; checking here too keeps the bytes of a refused upload out of the store.
        if (ImageRules.Name(name, file.FileName, kind!.Extension).Error is { } nameError) return Problems.Invalid("name", nameError);

        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var upload = new ImageUpload(name, file.FileName, hash, kind.Extension, bytes.Length, kind.Width, kind.Height);
        // Bytes that would not fit the org's limits are never written; AddImage decides again.
        var room = await grain.CheckImageRoom(upload);
        if (room.Status == OutcomeStatus.QuotaExceeded) return Problems.QuotaExceeded(room.Detail!);

        // Bytes first, record second: a crash in between leaves an unreferenced blob, never a
        // record without bytes. If the blob is being collected just now, put it again.
        Outcome<ImageRecord> outcome;
        var attempt = 0;
        do
        {
            if (attempt > 0) await Task.Delay(20 * attempt, request.HttpContext.RequestAborted);
            await blobs.PutAsync(org, hash, bytes, request.HttpContext.RequestAborted);
            outcome = await grain.AddImage(upload);
        }
        while (outcome.Status == OutcomeStatus.BlobMissing && ++attempt < 8);

        return outcome.Status switch
        {
            OutcomeStatus.Created => TypedResults.Ok(ImageView.From(Links.BaseUrl(request, options.Value), org, outcome.Value!)),
            OutcomeStatus.Invalid => Problems.Invalid(outcome.Errors!),
            OutcomeStatus.OrgNotFound => Problems.OrgNotFound(org),
            OutcomeStatus.QuotaExceeded => Problems.QuotaExceeded(outcome.Detail!),
            _ => throw new StorageUnavailableException("The image's bytes could not be stored; retry later."),
        };
    }

    public static async Task<Results<Ok<ImageView>, ProblemHttpResult>> GetImage(
        string org, [FromRoute(Name = "user_id")] string userId, long id, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        var outcome = await grains.GetGrain<IOrgGrain>(org).GetImage(id);
        return outcome.Status switch
        {
            OutcomeStatus.Ok => TypedResults.Ok(ImageView.From(Links.BaseUrl(request, options.Value), org, outcome.Value!)),
            OutcomeStatus.NotFound => Problems.NotFound($"No image with id {id}."),
            _ => Problems.OrgNotFound(org),
        };
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteImage(
        string org, [FromRoute(Name = "user_id")] string userId, long id, IGrainFactory grains)
    {
        var outcome = await grains.GetGrain<IOrgGrain>(org).DeleteImage(id);
        return outcome.Status switch
        {
            OutcomeStatus.Ok => TypedResults.NoContent(),
            OutcomeStatus.NotFound => Problems.NotFound($"No image with id {id}."),
            _ => Problems.OrgNotFound(org),
        };
    }

    private static ProblemHttpResult TooLarge(long maxFile) =>
        Problems.TooLarge($"The image file may be at most {maxFile.ToString(CultureInfo.InvariantCulture)} bytes.");
}

/// <summary>The contract's image object: <c>image</c> is an absolute, content-addressed URL.</summary>
public sealed record ImageView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("image")] string Image)
{
    public static ImageView From(string baseUrl, string org, ImageRecord image) =>
        new(image.Id, image.Name, $"{baseUrl}{MediaApi.PathOf(org, image.Sha256, image.Extension)}");
}

/// <summary>The upload form, for the OpenAPI document.</summary>
public sealed record ImageUploadForm(IFormFile Image, string? Name);
