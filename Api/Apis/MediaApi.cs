using System.Text.RegularExpressions;
using Credentials.Grains.Blobs;
using Credentials.Grains.Images;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Credentials.Api.Apis;

/// <summary>
/// B3: public media. URLs are content-addressed (<c>/media/uploaded_images/{org}/{sha256}.{ext}</c>),
/// so the bytes behind a URL never change: strong ETag, immutable caching, and any node serves
/// them straight from the blob store without asking a grain.
/// </summary>
public static partial class MediaApi
{
    public const string Prefix = "/media/uploaded_images";

    /// <summary>A CSP that lets an SVG draw and nothing else, should it ever be opened as a document.</summary>
    public const string SvgPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox";

    [GeneratedRegex("^(?<hash>[0-9a-f]{64})\\.(?<ext>png|jpg|gif|webp|svg)\\z")]
    private static partial Regex FilePattern();

    public static string PathOf(string org, string sha256, string extension) => $"{Prefix}/{org}/{sha256}.{extension}";

    public static IEndpointRouteBuilder MapMediaApi(this IEndpointRouteBuilder app)
    {
        app.MapMethods(Prefix + "/{org}/{file}", [HttpMethods.Get, HttpMethods.Head], GetMedia)
            .WithTags("Media")
            .WithName("GetMedia")
            .WithSummary("The stored bytes of an image; public, cacheable forever.")
            .AllowAnonymous();
        return app;
    }

    public static async Task<Results<FileContentHttpResult, NotFound>> GetMedia(string org, string file, HttpContext context, IBlobStore blobs)
    {
        var match = FilePattern().Match(file);
        if (!match.Success || !Http.RouteKeysFilter.OrgPattern().IsMatch(org)) return TypedResults.NotFound();
        var hash = match.Groups["hash"].Value;
        var extension = match.Groups["ext"].Value;

        var bytes = await blobs.GetAsync(org, hash, context.RequestAborted);
        // Only the URL the upload answered serves the bytes: a PNG asked for as .svg is not served as SVG.
        if (bytes is null || ImageInspector.ExtensionOf(bytes) != extension) return TypedResults.NotFound();

        var headers = context.Response.Headers;
        headers.CacheControl = "public, max-age=31536000, immutable";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentDisposition = $"inline; filename=\"{hash}.{extension}\"";
        if (extension == "svg") headers.ContentSecurityPolicy = SvgPolicy;
        return TypedResults.Bytes(bytes, ImageInspector.ContentTypeOf(extension), entityTag: new EntityTagHeaderValue($"\"{hash}\""));
    }
}
