using Credentials.Api.Http;
using Credentials.Api.Images;
using System.Buffers;
using System.Text.RegularExpressions;
using Credentials.Grains;
using Credentials.Grains.Blobs;
using Credentials.Grains.Images;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Credentials.Api.Apis;

/// <summary>
/// B3: public media. URLs are content-addressed (<c>/media/uploaded_images/{org}/{sha256}.{ext}</c>),
/// so the bytes behind a URL never change: strong ETag, immutable caching, and any node serves
/// them straight from the blob store without asking a grain. B6: the bytes are streamed through one
/// bounded buffer, never held whole, and a revalidation by ETag is answered from the URL alone.
/// </summary>
public static partial class MediaApi
{
    public const string Prefix = "/media/uploaded_images";

    /// <summary>A CSP that lets an SVG draw and nothing else, should it ever be opened as a document.</summary>
    public const string SvgPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox";

    /// <summary>Enough leading bytes to tell every raster format we serve (WebP needs 12).</summary>
    private const int MagicBytes = 16;

    /// <summary>The server's transport takes a whole write before it waits for a slow client: hand it this much at a time.</summary>
    private const int WriteBytes = 64 * 1024;

    [GeneratedRegex("^(?<hash>[0-9a-f]{64})\\.(?<ext>png|jpg|gif|webp|svg)\\z")]
    private static partial Regex FilePattern();

    public static string PathOf(string org, string sha256, string extension) => $"{Prefix}/{org}/{sha256}.{extension}";

    public static IEndpointRouteBuilder MapMediaApi(this IEndpointRouteBuilder app)
    {
        app.MapMethods(Prefix + "/{org}/{file}", ReadMethods.GetAndHead, GetMedia)
            .WithTags("Media")
            .WithName("GetMedia")
            .WithSummary("The stored bytes of an image; public, cacheable forever.")
            .Produces<Stream>(StatusCodes.Status200OK, "image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
            .Produces(StatusCodes.Status304NotModified)
            .AllowAnonymous()
            .ProducesProblems();
        return app;
    }

    public static Results<MediaContent, StatusCodeHttpResult, NotFound> GetMedia(string org, string file, HttpContext context, IBlobStore blobs)
    {
        var match = FilePattern().Match(file);
        if (!match.Success || !OrgKeys.IsValid(org)) return TypedResults.NotFound();
        var hash = match.Groups["hash"].Value;
        var extension = match.Groups["ext"].Value;

        // The hash names the bytes, which never change: a client that holds this ETag holds them, so
        // the answer needs no blob store — even for a hash never stored, where the 304 tells nothing new.
        if (IfNoneMatch(context.Request, hash) == Precondition.HoldsThisHash)
        {
            SetHeaders(context.Response, hash, extension);
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        return new MediaContent(blobs, org, hash, extension);
    }

    internal enum Precondition { None, HoldsThisHash, HoldsAny }

    internal static Precondition IfNoneMatch(HttpRequest request, string hash)
    {
        var etag = new EntityTagHeaderValue($"\"{hash}\"");
        var any = false;
        foreach (var tag in request.GetTypedHeaders().IfNoneMatch)
        {
            // If-None-Match compares weakly (RFC 9110 13.1.2).
            if (tag.Compare(etag, useStrongComparison: false)) return Precondition.HoldsThisHash;
            any |= tag.Equals(EntityTagHeaderValue.Any);
        }
        return any ? Precondition.HoldsAny : Precondition.None;
    }

    internal static void SetHeaders(HttpResponse response, string hash, string extension)
    {
        var headers = response.Headers;
        headers.ETag = $"\"{hash}\"";
        headers.CacheControl = "public, max-age=31536000, immutable";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentDisposition = $"inline; filename=\"{hash}.{extension}\"";
        if (extension == "svg") headers.ContentSecurityPolicy = SvgPolicy;
    }

    /// <summary>
    /// The blob behind a media URL, copied to the response through one pooled buffer of at most
    /// <see cref="BlobStores.ReadChunkBytes"/>. A store failure before the first byte is a 503 (the
    /// exception handler answers it); after it, the response is aborted, so no client takes a
    /// truncated image for a whole one.
    /// </summary>
    public sealed class MediaContent(IBlobStore blobs, string org, string hash, string extension) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            var aborted = context.RequestAborted;
            await using var content = await blobs.OpenReadAsync(org, hash, aborted);
            if (content is null)
            {
                await TypedResults.NotFound().ExecuteAsync(context);
                return;
            }
            await ServeAsync(context, content);
        }

        /// <summary>Answers with a blob already opened (renditions open theirs to learn whether it exists).</summary>
        internal async Task ServeAsync(HttpContext context, Stream content)
        {
            var aborted = context.RequestAborted;
            var length = content.Length;
            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(length, MagicBytes, BlobStores.ReadChunkBytes));
            try
            {
                var head = HttpMethods.IsHead(context.Request.Method);
                var (actual, filled) = await SniffAsync(content, buffer, head ? MagicBytes : buffer.Length, aborted);
                // Only the URL the upload answered serves the bytes: a PNG asked for as .svg is not served as SVG.
                if (actual != extension)
                {
                    await TypedResults.NotFound().ExecuteAsync(context);
                    return;
                }

                var response = context.Response;
                SetHeaders(response, hash, extension);
                if (IfNoneMatch(context.Request, hash) == Precondition.HoldsAny)
                {
                    response.StatusCode = StatusCodes.Status304NotModified;
                    return;
                }
                response.ContentType = ImageInspector.ContentTypeOf(extension);
                response.ContentLength = length;
                if (head) return;
                await CopyAsync(context, content, buffer, filled, length);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private async Task CopyAsync(HttpContext context, Stream content, byte[] buffer, int filled, long length)
        {
            var aborted = context.RequestAborted;
            try
            {
                long sent = 0;
                while (true)
                {
                    for (var offset = 0; offset < filled; offset += WriteBytes)
                    {
                        await context.Response.Body.WriteAsync(buffer.AsMemory(offset, Math.Min(WriteBytes, filled - offset)), aborted);
                    }
                    sent += filled;
                    if (sent >= length) return;
                    filled = await content.ReadAsync(buffer, aborted);
                    if (filled == 0) throw new IOException($"The blob {org}/{hash} ended {length - sent} bytes early.");
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException && aborted.IsCancellationRequested)
            {
                // The client went away; nothing to answer.
            }
            catch (IOException ex) when (!aborted.IsCancellationRequested)
            {
                LogStreamFailed(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MediaApi)), org, hash, ex);
                context.Abort();
            }
        }

        /// <summary>
        /// The extension the bytes call for, read the way the upload read them, and how many of the
        /// first bytes are in the buffer. A raster tells from its magic number; an SVG may start with
        /// any amount of white space, and then the stream is read on and rewound to the start.
        /// </summary>
        private async Task<(string? Extension, int Filled)> SniffAsync(Stream content, byte[] buffer, int wanted, CancellationToken aborted)
        {
            int filled;
            try
            {
                var first = buffer.AsMemory(0, Math.Min(wanted, buffer.Length));
                filled = await content.ReadAtLeastAsync(first, (int)Math.Min(first.Length, Math.Min(MagicBytes, content.Length)), throwOnEndOfStream: false, aborted);
                var extension = ImageInspector.ExtensionOf(buffer.AsSpan(0, filled));
                if (extension is not null || filled == content.Length || !IsBlank(buffer.AsSpan(0, filled))) return (extension, filled);

                while ((filled = await content.ReadAsync(buffer, aborted)) > 0)
                {
                    var rest = buffer.AsSpan(0, filled).TrimStart(" \t\r\n"u8);
                    if (!rest.IsEmpty)
                    {
                        content.Position = 0;
                        return (rest[0] == (byte)'<' ? "svg" : null, 0);
                    }
                }
                return (null, 0);
            }
            catch (IOException ex)
            {
                throw new StorageUnavailableException($"The blob store failed reading {org}/{hash}.", ex);
            }
        }

        /// <summary>White space after an optional byte-order mark, as <see cref="SvgInspector.LooksLikeXml"/> skips it.</summary>
        private static bool IsBlank(ReadOnlySpan<byte> bytes)
        {
            if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) bytes = bytes[3..];
            return bytes.TrimStart(" \t\r\n"u8).IsEmpty;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Media {Org}/{Sha256}: the blob store failed mid-stream; the response was aborted.")]
    private static partial void LogStreamFailed(ILogger logger, string org, string sha256, Exception exception);
}
