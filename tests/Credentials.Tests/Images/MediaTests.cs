using Credentials.Api.Images;
using System.Net;
using System.Net.Http.Headers;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Images;

/// <summary>
/// B3: the <c>image</c> URL serves the stored bytes to anyone, with the true content type, a strong
/// ETag, immutable caching, nosniff and a safe inline disposition; anything else under the media
/// prefix is a 404, and so is an image's URL once no record uses its bytes.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class MediaTests(SqliteApiFixture fixture)
{
    private readonly ApiFactory _factory = fixture.Factory;
    private readonly HttpClient _admin = fixture.Factory.AdminClient();
    private readonly HttpClient _anonymous = fixture.Factory.CreateClient();

    private async Task<(string Org, System.Text.Json.Nodes.JsonObject Image, byte[] Bytes)> UploadAsync(string format = "png")
    {
        var org = await _admin.CreatePlatformAsync();
        var bytes = ImageInspectorTests.Sample(format);
        return (org, await _admin.UploadImageAsync(org, bytes, "upload", "application/octet-stream", name: "Served \"quoted\"; name.png"), bytes);
    }

    private static string Sha256Of(System.Text.Json.Nodes.JsonObject image) => Path.GetFileNameWithoutExtension(new Uri(image.Url()).AbsolutePath);

    [Theory, MemberData(nameof(ImageUploadTests.Formats), MemberType = typeof(ImageUploadTests))]
    public async Task Get_serves_the_bytes_with_the_true_type_a_strong_etag_immutable_caching_and_nosniff(string format, string extension, string contentType)
    {
        var (_, image, bytes) = await UploadAsync(format);

        var response = await _anonymous.GetAsync(image.Url());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(contentType, response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        var etag = response.Headers.ETag!;
        Assert.False(etag.IsWeak);
        Assert.Equal($"\"{Sha256Of(image)}\"", etag.Tag);
        var cache = response.Headers.CacheControl!;
        Assert.True(cache.Public);
        Assert.True(cache.MaxAge >= TimeSpan.FromDays(365));
        Assert.Contains(cache.Extensions, e => e.Name == "immutable");
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        var disposition = response.Content.Headers.ContentDisposition!;
        Assert.Equal("inline", disposition.DispositionType);
        Assert.Equal($"{Sha256Of(image)}.{extension}", disposition.FileName?.Trim('"'));
    }

    [Fact]
    public async Task The_disposition_never_carries_the_clients_name_or_file_name()
    {
        var (_, image, _) = await UploadAsync();

        var response = await _anonymous.GetAsync(image.Url());

        var header = string.Join(",", response.Content.Headers.GetValues("Content-Disposition"));
        Assert.DoesNotContain("quoted", header);
        Assert.DoesNotContain("Served", header);
        Assert.Matches("^inline; filename=\"[0-9a-f]{64}\\.png\"$", header);
    }

    [Fact]
    public async Task Head_answers_the_same_headers_without_a_body()
    {
        var (_, image, bytes) = await UploadAsync();
        var get = await _anonymous.GetAsync(image.Url());

        var head = await _anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, image.Url()));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", head.Content.Headers.ContentType!.MediaType);
        Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Equal(get.Headers.CacheControl, head.Headers.CacheControl);
        Assert.Equal("nosniff", Assert.Single(head.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal(get.Content.Headers.ContentDisposition, head.Content.Headers.ContentDisposition);
    }

    [Fact]
    public async Task Head_of_an_svg_carries_its_content_security_policy()
    {
        var (_, image, _) = await UploadAsync("svg");

        var head = await _anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, image.Url()));

        Assert.Equal("image/svg+xml", head.Content.Headers.ContentType!.MediaType);
        Assert.Contains("default-src 'none'", string.Join(",", head.Headers.GetValues("Content-Security-Policy")));
    }

    [Theory]
    [InlineData("same")]
    [InlineData("weak")]
    [InlineData("list")]
    [InlineData("star")]
    public async Task If_none_match_with_the_current_etag_is_a_304_without_a_body(string form)
    {
        var (_, image, _) = await UploadAsync();
        var etag = (await _anonymous.GetAsync(image.Url())).Headers.ETag!.Tag;
        var request = new HttpRequestMessage(HttpMethod.Get, image.Url());
        request.Headers.TryAddWithoutValidation("If-None-Match", form switch
        {
            "same" => etag,
            "weak" => "W/" + etag,
            "list" => $"\"other\", {etag}",
            _ => "*",
        });

        var response = await _anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, response.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task If_none_match_with_the_urls_own_hash_is_a_304_even_for_bytes_never_stored()
    {
        // Decided from the URL alone: the client already holds the bytes this hash names, so saying
        // "not modified" costs no lookup and tells it nothing it did not know.
        var org = await _admin.CreatePlatformAsync();
        var hash = new string('b', 64);
        var request = new HttpRequestMessage(HttpMethod.Get, $"/media/uploaded_images/{org}/{hash}.png");
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{hash}\""));

        var response = await _anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Equal($"\"{hash}\"", response.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task If_none_match_star_for_bytes_never_stored_is_a_404()
    {
        var org = await _admin.CreatePlatformAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, $"/media/uploaded_images/{org}/{new string('b', 64)}.png");
        request.Headers.TryAddWithoutValidation("If-None-Match", "*");

        var response = await _anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task If_none_match_star_under_another_extension_than_the_bytes_is_a_404()
    {
        var (_, image, _) = await UploadAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, Path.ChangeExtension(image.Url(), ".svg"));
        request.Headers.TryAddWithoutValidation("If-None-Match", "*");

        var response = await _anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task If_none_match_with_another_etag_serves_the_bytes()
    {
        var (_, image, bytes) = await UploadAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, image.Url());
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"" + new string('0', 64) + "\""));

        var response = await _anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_url_honours_the_configured_public_base_url()
    {
        await using var factory = new ApiFactory();
        factory.Settings["Api:PublicBaseUrl"] = "https://media.example.org/base/";
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();

        var image = await admin.UploadImageAsync(org, SampleImages.Png());

        Assert.StartsWith($"https://media.example.org/base/media/uploaded_images/{org}/", image.Url());
        Assert.Equal(HttpStatusCode.OK, (await factory.CreateClient().GetAsync(new Uri(image.Url()).AbsolutePath.Replace("/base", ""))).StatusCode);
    }

    public static TheoryData<string> NotMedia => new()
    {
        "{org}/{hash}",                           // no extension
        "{org}/{hash}.PNG",                       // extensions are lower case
        "{org}/{hash}.exe",
        "{org}/{hash}.png.png",
        "{org}/{HASH}.png",                       // hashes are lower-case hex
        "{org}/{short}.png",                      // 63 digits
        "{org}/{hash}0.png",                      // 65 digits
        "{org}/{nothex}.png",
        "{org}/..%2F{hash}.png",
        "{org}/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "{org}/{hash}.png/extra",
        "{org}/",
        "{org}",
        "Bad_Org/{hash}.png",
        "{other}/{hash}.png",                     // the same bytes are not another org's
        "{org}/{unknown}.png",
        "{org}/{hash}.svg",                       // the bytes are a PNG, not an SVG
        "{org}/{hash}.jpg",
    };

    [Theory, MemberData(nameof(NotMedia))]
    public async Task Anything_but_a_stored_images_own_url_is_a_404(string template)
    {
        var (org, image, _) = await UploadAsync();
        var other = await _admin.CreatePlatformAsync();
        var hash = Sha256Of(image);
        var path = "/media/uploaded_images/" + template
            .Replace("{org}", org).Replace("{other}", other)
            .Replace("{hash}", hash).Replace("{HASH}", hash.ToUpperInvariant())
            .Replace("{short}", hash[..63]).Replace("{nothex}", "g" + hash[1..])
            .Replace("{unknown}", new string('a', 64));

        var get = await _anonymous.GetAsync(path);
        var head = await _anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.NotEqual("image/png", get.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_path_outside_the_media_prefix_is_a_404()
    {
        var (org, image, _) = await UploadAsync();

        var response = await _anonymous.GetAsync($"/media/{org}/{Path.GetFileName(new Uri(image.Url()).AbsolutePath)}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task After_the_only_image_using_some_bytes_is_deleted_its_url_is_a_404()
    {
        var (org, image, _) = await UploadAsync();

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync(ImageRequests.Image(org, image.Id()))).StatusCode);

        await ImageRequests.EventuallyAsync(
            async () => (await _anonymous.GetAsync(image.Url())).StatusCode == HttpStatusCode.NotFound,
            "the deleted image's URL is a 404");
        Assert.Empty(ImageRequests.BlobFiles(_factory, org));
    }

    [Fact]
    public async Task Media_may_only_be_read()
    {
        var (_, image, _) = await UploadAsync();

        var post = await _admin.PostAsync(image.Url(), new ByteArrayContent([1, 2, 3]));
        var delete = await _admin.DeleteAsync(image.Url());

        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, delete.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _anonymous.GetAsync(image.Url())).StatusCode);
    }
}
