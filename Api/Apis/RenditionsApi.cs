using System.Globalization;
using System.Text.RegularExpressions;
using Credentials.Api.Http;
using Credentials.Api.Images;
using Credentials.Grains;
using Credentials.Grains.Blobs;
using Credentials.Grains.Images;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Credentials.Api.Apis;

/// <summary>
/// C2: PNG renditions of an org's images at a few sizes, public and cached like media. The URL
/// names the source's hash and the size, so the rendition's blob key and ETag follow from it: a
/// stored rendition is served by any node straight from the blob store, a revalidation needs no
/// store at all, and only a rendition not yet made reaches the org grain (<see cref="Renditions"/>).
/// </summary>
public static partial class RenditionsApi
{
    public const string Prefix = "/media/renditions";

    [GeneratedRegex("^[0-9a-f]{64}\\z")]
    private static partial Regex HashPattern();

    [GeneratedRegex("^(?<size>[0-9]{2,3})\\.png\\z")]
    private static partial Regex FilePattern();

    public static IEndpointRouteBuilder MapRenditionsApi(this IEndpointRouteBuilder app)
    {
        app.MapMethods(Prefix + "/{org}/{sha256}/{file}", ReadMethods.GetAndHead, GetRendition)
            .WithTags("Media")
            .WithName("GetRendition")
            .WithSummary("A PNG of an image scaled so its longer side is 64, 128, 256 or 512 pixels; public, cacheable forever.")
            .WithDescription("`file` is `{size}.png`. A raster smaller than the size keeps its size; an SVG is rasterised without fetching anything. Made once and stored; a source that cannot be rendered within the time and memory bounds is 404, remembered.")
            .Produces<Stream>(StatusCodes.Status200OK, "image/png")
            .Produces(StatusCodes.Status304NotModified)
            .AllowAnonymous()
            .ProducesProblems(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        return app;
    }

    public static Results<RenditionContent, StatusCodeHttpResult, NotFound> GetRendition(string org, string sha256, string file, HttpContext context)
    {
        var match = FilePattern().Match(file);
        if (!match.Success || !HashPattern().IsMatch(sha256) || !OrgKeys.IsValid(org)) return TypedResults.NotFound();
        var size = int.Parse(match.Groups["size"].ValueSpan, CultureInfo.InvariantCulture);
        if (!RenditionRules.IsSize(size)) return TypedResults.NotFound();

        var key = RenditionRules.KeyOf(sha256, size);
        // As for media: the URL names the bytes, so a client holding this ETag holds them.
        if (MediaApi.IfNoneMatch(context.Request, key) == MediaApi.Precondition.HoldsThisHash)
        {
            MediaApi.SetHeaders(context.Response, key, "png");
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        return new RenditionContent(org, sha256, size, key);
    }

    /// <summary>The stored rendition, or one made now (<see cref="Renditions"/>) and written from memory.</summary>
    public sealed class RenditionContent(string org, string source, int size, string key) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            var services = context.RequestServices;
            var blobs = services.GetRequiredService<IBlobStore>();
            var media = new MediaApi.MediaContent(blobs, org, key, "png");
            if (await TryServeStoredAsync(context, blobs, media)) return;

            var answer = await services.GetRequiredService<Renditions>().MakeAsync(org, source, size).WaitAsync(context.RequestAborted);
            switch (answer.Status)
            {
                case RenditionStatus.Rendered:
                    await WriteAsync(context, answer.Png!);
                    return;
                case RenditionStatus.Stored when await TryServeStoredAsync(context, blobs, media):
                    return;
                case RenditionStatus.QuotaExceeded:
                    await Problems.QuotaExceeded(answer.Detail!).ExecuteAsync(context);
                    return;
                default:
                    await TypedResults.NotFound().ExecuteAsync(context);
                    return;
            }
        }

        private async Task<bool> TryServeStoredAsync(HttpContext context, IBlobStore blobs, MediaApi.MediaContent media)
        {
            await using var stored = await blobs.OpenReadAsync(org, key, context.RequestAborted);
            if (stored is null) return false;
            await media.ServeAsync(context, stored);
            return true;
        }

        private async Task WriteAsync(HttpContext context, byte[] png)
        {
            var response = context.Response;
            MediaApi.SetHeaders(response, key, "png");
            if (MediaApi.IfNoneMatch(context.Request, key) == MediaApi.Precondition.HoldsAny)
            {
                response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }
            response.ContentType = "image/png";
            response.ContentLength = png.Length;
            if (HttpMethods.IsHead(context.Request.Method)) return;
            await response.Body.WriteAsync(png, context.RequestAborted);
        }
    }
}
