using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Credentials.Api.Images;
using Credentials.Grains.Blobs;
using Credentials.Grains.Images;
using Credentials.Tests.Images;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Renditions;

/// <summary>
/// C2 through a whole service, on both backends: every format rendered at every size with the
/// media headers, made once and then served from the store, 304 without the store, 404s,
/// remembered failures, removal with the source, and the image-bytes quota.
/// </summary>
public abstract class RenditionTests(ObservedService service)
{
    private readonly HttpClient _admin = Admin(service);
    private readonly HttpClient _anonymous = service.CreateClient();
    private RenditionRenderer Renderer => service.Factory.Services.GetRequiredService<RenditionRenderer>();

    private static HttpClient Admin(ObservedService service)
    {
        var client = service.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Token", ApiFactory.AdminToken);
        return client;
    }

    public static string PathOf(string org, JsonObject image, int size) => PathOf(org, HashOf(image), size);

    public static string PathOf(string org, string hash, int size) => $"/media/renditions/{org}/{hash}/{size.ToString(CultureInfo.InvariantCulture)}.png";

    /// <summary>The source's hash, from its content-addressed media URL.</summary>
    public static string HashOf(JsonObject image) => Path.GetFileNameWithoutExtension(new Uri(image.Url()).AbsolutePath);

    public static TheoryData<string> Formats => new() { "png", "jpg", "gif", "webp", "svg" };

    private static (byte[] Bytes, int Width, int Height) Sample(string format) => format switch
    {
        "png" => (SampleImages.Png(300, 200, seed: 7), 300, 200),
        "jpg" => (RenditionSamples.Photo(), 480, 320),
        "gif" => (RenditionSamples.Bands(), 96, 64),
        "webp" => (RenditionSamples.Banner(), 600, 200),
        _ => (RenditionSamples.Seal(), 240, 160),
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Every_size_of_an_image_is_a_png_of_that_longer_side_with_the_media_headers(string format)
    {
        var org = await _admin.CreatePlatformAsync();
        var (bytes, width, height) = Sample(format);
        var image = await _admin.UploadImageAsync(org, bytes);

        foreach (var size in RenditionRules.Sizes)
        {
            var response = await _anonymous.GetAsync(PathOf(org, image, size));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
            Assert.False(response.Headers.ETag!.IsWeak);
            Assert.Equal($"\"{RenditionRules.KeyOf(HashOf(image), size)}\"", response.Headers.ETag.Tag);
            Assert.True(response.Headers.CacheControl!.Public);
            Assert.Contains("immutable", response.Headers.CacheControl.Extensions.Select(e => e.Name));
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            var (w, h) = RenditionSamples.PngSize(await response.Content.ReadAsByteArrayAsync());
            // A raster smaller than the size keeps its size; an SVG is drawn at it.
            var expectedLonger = format == "svg" ? size : Math.Min(size, Math.Max(width, height));
            Assert.Equal(expectedLonger, Math.Max(w, h));
            Assert.InRange((double)w / h, (double)width / height * 0.95, (double)width / height * 1.05);
        }
    }

    [Fact]
    public async Task A_rendition_is_made_once_and_later_requests_serve_the_stored_bytes()
    {
        var org = await _admin.CreatePlatformAsync();
        var image = await _admin.UploadImageAsync(org, SampleImages.Png(200, 100, seed: 11));
        var before = Renderer.Renders;

        var first = await (await _anonymous.GetAsync(PathOf(org, image, 128))).Content.ReadAsByteArrayAsync();
        Assert.Equal(before + 1, Renderer.Renders);
        for (var i = 0; i < 3; i++)
        {
            var again = await _anonymous.GetAsync(PathOf(org, image, 128));
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(first, await again.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(before + 1, Renderer.Renders);
        Assert.Contains(RenditionRules.KeyOf(HashOf(image), 128), await BlobsAsync(org));
    }

    [Fact]
    public async Task Concurrent_first_requests_for_one_rendition_render_it_once()
    {
        var org = await _admin.CreatePlatformAsync();
        var image = await _admin.UploadImageAsync(org, RenditionSamples.Photo());
        var before = Renderer.Renders;

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => _anonymous.GetAsync(PathOf(org, image, 256))));

        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsByteArrayAsync()));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(bodies, b => Assert.Equal(bodies[0], b));
        Assert.Equal(before + 1, Renderer.Renders);
    }

    [Fact]
    public async Task A_revalidation_by_etag_is_a_304_without_the_store()
    {
        var org = await _admin.CreatePlatformAsync();
        var image = await _admin.UploadImageAsync(org, SampleImages.Png(90, 90, seed: 12));
        var first = await _anonymous.GetAsync(PathOf(org, image, 64));
        var calls = service.Blobs.Calls(org);

        var request = new HttpRequestMessage(HttpMethod.Get, PathOf(org, image, 64));
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        var revalidated = await _anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Equal(first.Headers.ETag, revalidated.Headers.ETag);
        Assert.Equal(calls, service.Blobs.Calls(org));
    }

    [Fact]
    public async Task Unknown_orgs_hashes_sizes_and_renditions_as_sources_are_404()
    {
        var org = await _admin.CreatePlatformAsync();
        var image = await _admin.UploadImageAsync(org, SampleImages.Png(50, 40, seed: 13));
        var hash = HashOf(image);
        Assert.Equal(HttpStatusCode.OK, (await _anonymous.GetAsync(PathOf(org, image, 64))).StatusCode);

        string[] missing =
        [
            PathOf(TestRequests.NewOrg(), hash, 64),
            PathOf(org, new string('0', 64), 64),
            PathOf(org, hash, 100),
            PathOf(org, hash, 0),
            $"/media/renditions/{org}/{hash}/64.jpg",
            $"/media/renditions/{org}/{hash.ToUpperInvariant()}/64.png",
            $"/media/renditions/{org}/{hash[..10]}/64.png",
            $"/media/renditions/NOT_AN_ORG/{hash}/64.png",
            // A rendition is stored like an image but is never the source of another.
            PathOf(org, RenditionRules.KeyOf(hash, 64), 64),
        ];
        foreach (var path in missing) Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task Renditions_asked_of_an_unknown_org_activate_no_grain()
    {
        var unknown = TestRequests.NewOrg();
        foreach (var size in RenditionRules.Sizes)
            Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync(PathOf(unknown, new string('a', 64), size))).StatusCode);

        var grains = service.Factory.Services.GetRequiredService<IGrainFactory>();
        var management = grains.GetGrain<Orleans.Runtime.IManagementGrain>(0);
        Assert.Equal(0, await management.GetGrainActivationCount((Orleans.Runtime.GrainReference)grains.GetGrain<Credentials.Grains.IOrgGrain>(unknown)));
    }

    [Fact]
    public async Task A_source_that_cannot_be_rendered_is_404_and_not_tried_again()
    {
        var org = await _admin.CreatePlatformAsync();
        var image = await _admin.UploadImageAsync(org, RenditionSamples.UseChain());
        var before = Renderer.Renders;

        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync(PathOf(org, image, 64))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync(PathOf(org, image, 64))).StatusCode);

        Assert.Equal(before + 1, Renderer.Renders);
    }

    [Fact]
    public async Task Renditions_are_removed_with_the_last_image_using_their_source()
    {
        var org = await _admin.CreatePlatformAsync();
        var bytes = SampleImages.Png(120, 80, seed: 14);
        var first = await _admin.UploadImageAsync(org, bytes);
        var second = await _admin.UploadImageAsync(org, bytes);
        foreach (var size in RenditionRules.Sizes) Assert.Equal(HttpStatusCode.OK, (await _anonymous.GetAsync(PathOf(org, first, size))).StatusCode);
        var keys = RenditionRules.Sizes.Select(size => RenditionRules.KeyOf(HashOf(first), size)).ToArray();
        Assert.Subset((await BlobsAsync(org)).ToHashSet(), keys.ToHashSet());

        // Another image still uses the bytes: the renditions stay.
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync(ImageRequests.Image(org, first.Id()))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _anonymous.GetAsync(PathOf(org, second, 64))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync(ImageRequests.Image(org, second.Id()))).StatusCode);
        Assert.Empty(await BlobsAsync(org));
        var before = Renderer.Renders;
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync(PathOf(org, second, 64))).StatusCode);
        Assert.Equal(before, Renderer.Renders);
    }

    private async Task<string[]> BlobsAsync(string org)
    {
        var hashes = new List<string>();
        await foreach (var (sha256, _) in service.Factory.Services.GetRequiredService<IBlobStore>().ListAsync(org)) hashes.Add(sha256);
        return [.. hashes];
    }
}

public sealed class FileRenditionService() : ObservedServiceFixture(Backend.Sqlite);

public sealed class PostgreSqlRenditionService() : ObservedServiceFixture(Backend.PostgreSql);

public sealed class FileRenditionTests(FileRenditionService fixture) : RenditionTests(fixture.Service), IClassFixture<FileRenditionService>;

public sealed class PostgreSqlRenditionTests(PostgreSqlRenditionService fixture) : RenditionTests(fixture.Service), IClassFixture<PostgreSqlRenditionService>;
