using Credentials.Api.Images;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Images;

/// <summary>
/// A2: uploading an image. The type comes from the bytes (never the client's name or Content-Type),
/// the response is <c>{id, name, image}</c>, and whatever is refused leaves nothing behind.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ImageUploadTests(SqliteApiFixture fixture)
{
    private readonly ApiFactory _factory = fixture.Factory;
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    public static TheoryData<string, string, string> Formats => ImageInspectorTests.Formats;

    private async Task AssertNothingStoredAsync(string org)
    {
        Assert.Empty(await _client.SearchImagesAsync(org, ""));
        Assert.Empty(ImageRequests.BlobFiles(_factory, org));
    }

    [Theory, MemberData(nameof(Formats))]
    public async Task Each_format_is_accepted_and_answered_with_id_name_and_a_content_addressed_url(string format, string extension, string contentType)
    {
        var org = await _client.CreatePlatformAsync();
        var bytes = ImageInspectorTests.Sample(format);

        var image = await _client.UploadImageAsync(org, bytes, "upload." + extension, contentType, name: "Certificate Icon");

        Assert.Equal("Certificate Icon", image.Name());
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Assert.Equal($"http://localhost/media/uploaded_images/{org}/{sha256}.{extension}", image.Url());
        var media = await _factory.CreateClient().GetAsync(image.Url());
        Assert.Equal(HttpStatusCode.OK, media.StatusCode);
        Assert.Equal(contentType, media.Content.Headers.ContentType?.MediaType);
        Assert.Equal(bytes, await media.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_png_sent_as_logo_jpg_declared_image_jpeg_is_stored_and_served_as_png()
    {
        var org = await _client.CreatePlatformAsync();
        var png = SampleImages.Png();

        var image = await _client.UploadImageAsync(org, png, "logo.jpg", "image/jpeg");

        Assert.Equal("logo.jpg", image.Name());
        Assert.EndsWith(".png", image.Url());
        var media = await _factory.CreateClient().GetAsync(image.Url());
        Assert.Equal("image/png", media.Content.Headers.ContentType?.MediaType);
        Assert.Equal(png, await media.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("gif", "photo.png", "image/png", ".gif", "image/gif")]
    [InlineData("jpeg", "photo.gif", "image/gif", ".jpg", "image/jpeg")]
    [InlineData("webp", "photo.svg", "image/svg+xml", ".webp", "image/webp")]
    [InlineData("svg", "drawing.png", "image/png", ".svg", "image/svg+xml")]
    [InlineData("png", "noextension", "text/html", ".png", "image/png")]
    public async Task The_declared_type_and_file_extension_never_decide_the_stored_type(
        string format, string fileName, string declared, string storedExtension, string servedType)
    {
        var org = await _client.CreatePlatformAsync();

        var image = await _client.UploadImageAsync(org, ImageInspectorTests.Sample(format), fileName, declared);

        Assert.EndsWith(storedExtension, image.Url());
        var media = await _factory.CreateClient().GetAsync(image.Url());
        Assert.Equal(servedType, media.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("notes.png", "image/png", "These are my notes, not a picture.")]
    [InlineData("report.jpg", "image/jpeg", "%PDF-1.7\n%âãÏÓ\n1 0 obj")]
    [InlineData("tool.gif", "image/gif", "MZ\u0090\u0000\u0003")]
    [InlineData("bitmap.png", "image/png", "BM6\u0000\u0000\u0000")]
    public async Task Bytes_that_are_no_accepted_image_are_a_415_problem_whatever_they_are_called(string fileName, string declared, string content)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(Encoding.UTF8.GetBytes(content), fileName, declared));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.Contains("PNG", problem["detail"]!.GetValue<string>());
        await AssertNothingStoredAsync(org);
    }

    [Theory]
    [InlineData("corrupt")]
    [InlineData("truncated")]
    [InlineData("empty")]
    [InlineData("html")]
    public async Task A_broken_image_an_empty_file_or_xml_that_is_no_svg_is_a_400_problem(string sample)
    {
        var org = await _client.CreatePlatformAsync();
        var bytes = sample switch
        {
            "corrupt" => SampleImages.CorruptPng(),
            "truncated" => SampleImages.TruncatedPng(),
            "empty" => [],
            "html" => "<html><body>Not an SVG</body></html>"u8.ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(sample)),
        };

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(bytes, "broken.png", "image/png"));

        await response.InvalidAsync("image");
        await AssertNothingStoredAsync(org);
    }

    [Fact]
    public async Task A_png_header_claiming_100000_by_100000_pixels_is_refused_with_its_size_in_the_detail()
    {
        var org = await _client.CreatePlatformAsync();
        var bomb = SampleImages.PngClaiming(100_000, 100_000);
        Assert.True(bomb.Length < 100);

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(bomb, "bomb.png", "image/png"));

        var body = await response.InvalidAsync("image");
        Assert.Contains("100000×100000", body);
        await AssertNothingStoredAsync(org);
    }

    [Theory]
    [InlineData("gif")]
    [InlineData("jpeg")]
    [InlineData("webp")]
    public async Task A_decompression_bomb_in_any_raster_format_is_a_400_and_stores_nothing(string format)
    {
        var org = await _client.CreatePlatformAsync();
        var bomb = format switch
        {
            "gif" => SampleImages.GifClaiming(60_000, 60_000),
            "jpeg" => SampleImages.JpegClaiming(60_000, 60_000),
            _ => SampleImages.WebPClaiming(16_383, 16_383),
        };

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(bomb, "bomb." + format));

        await response.InvalidAsync("image");
        await AssertNothingStoredAsync(org);
    }

    [Theory]
    [InlineData(16_384, 2_441, true)]
    [InlineData(2_441, 16_384, true)]
    [InlineData(16_385, 1, false)]
    [InlineData(1, 16_385, false)]
    [InlineData(6_400, 6_250, true)] // 40,000,000 pixels
    [InlineData(3_015, 13_267, false)] // 40,000,005: the nearest product above it with both sides ≤ 16,384
    [InlineData(16_384, 16_384, false)]
    public async Task Rasters_are_held_to_16384_a_side_and_40_megapixels(int width, int height, bool accepted)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(SampleImages.PngClaiming(width, height), "big.png"));

        if (accepted)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            Assert.Contains($"{width}×{height}", await response.InvalidAsync("image"));
            await AssertNothingStoredAsync(org);
        }
    }

    [Fact]
    public async Task A_file_of_exactly_10_MiB_is_accepted()
    {
        var org = await _client.CreatePlatformAsync();
        var bytes = SampleImages.PngOfLength(10 * 1024 * 1024);

        var image = await _client.UploadImageAsync(org, bytes, "ten.png");

        var media = await _factory.CreateClient().GetByteArrayAsync(image.Url());
        Assert.Equal(bytes, media);
    }

    [Fact]
    public async Task A_file_of_10_MiB_and_one_byte_is_a_413_problem()
    {
        var org = await _client.CreatePlatformAsync();
        var bytes = SampleImages.PngOfLength(10 * 1024 * 1024 + 1);

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(bytes, "ten-and-one.png"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("10485760", (await response.ProblemAsync())["detail"]!.GetValue<string>());
        await AssertNothingStoredAsync(org);
    }

    [Fact]
    public async Task Multipart_without_an_image_file_is_a_400_naming_the_image_field()
    {
        var org = await _client.CreatePlatformAsync();

        var onlyName = await _client.PostAsync(ImageRequests.Images(org), TestRequests.Multipart(("name", "No file")));
        var imageAsText = await _client.PostAsync(ImageRequests.Images(org), TestRequests.Multipart(("image", "not a file")));
        var otherField = new MultipartFormDataContent { { new ByteArrayContent(SampleImages.Png()), "file", "logo.png" } };
        var fileInOtherField = await _client.PostAsync(ImageRequests.Images(org), otherField);

        await onlyName.InvalidAsync("image");
        await imageAsText.InvalidAsync("image");
        await fileInOtherField.InvalidAsync("image");
        await AssertNothingStoredAsync(org);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("form")]
    [InlineData("raw-png")]
    [InlineData("none")]
    public async Task A_body_that_is_not_multipart_is_a_415_problem(string kind)
    {
        var org = await _client.CreatePlatformAsync();
        HttpContent? content = kind switch
        {
            "json" => JsonContent.Create(new { name = "Logo", image = Convert.ToBase64String(SampleImages.Png()) }),
            "form" => TestRequests.Form(("name", "Logo"), ("image", "x")),
            "raw-png" => new ByteArrayContent(SampleImages.Png()) { Headers = { ContentType = new("image/png") } },
            _ => null,
        };

        var response = await _client.PostAsync(ImageRequests.Images(org), content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await response.ProblemAsync();
        await AssertNothingStoredAsync(org);
    }

    [Fact]
    public async Task A_multipart_body_that_cannot_be_read_is_a_400_problem()
    {
        var org = await _client.CreatePlatformAsync();
        var content = new ByteArrayContent("--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\n\r\nno closing boundary"u8.ToArray());
        content.Headers.ContentType = new("multipart/form-data") { Parameters = { new("boundary", "b") } };

        var response = await _client.PostAsync(ImageRequests.Images(org), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.ProblemAsync();
        await AssertNothingStoredAsync(org);
    }

    [Fact]
    public async Task Ids_are_integers_that_increase_with_each_upload()
    {
        var org = await _client.CreatePlatformAsync();

        var ids = new List<long>();
        for (var i = 0; i < 5; i++) ids.Add((await _client.UploadImageAsync(org, SampleImages.Png(seed: i))).Id());

        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task Fifty_parallel_uploads_get_fifty_different_ids_and_are_all_listed_in_id_order()
    {
        var org = await _client.CreatePlatformAsync();

        var uploads = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            _client.UploadImageAsync(org, SampleImages.Png(seed: i % 10), name: $"parallel {i:D2}")));

        var ids = uploads.Select(u => u.Id()).ToArray();
        Assert.Equal(50, ids.Distinct().Count());
        var listed = await _client.SearchImagesAsync(org, "");
        Assert.Equal(ids.Order(), listed.Select(i => i.Id()));
        Assert.Equal(10, ImageRequests.BlobFiles(_factory, org).Length);
    }

    [Fact]
    public async Task Ids_of_one_org_do_not_depend_on_another_orgs_uploads()
    {
        var first = await _client.CreatePlatformAsync();
        var second = await _client.CreatePlatformAsync();
        var a = await _client.UploadImageAsync(first, SampleImages.Png());
        await _client.UploadImageAsync(second, SampleImages.Png());

        var b = await _client.UploadImageAsync(first, SampleImages.Png(seed: 1));

        Assert.True(b.Id() > a.Id());
        Assert.Equal(2, (await _client.SearchImagesAsync(first, "")).Length);
        Assert.Single(await _client.SearchImagesAsync(second, ""));
    }

    [Fact]
    public async Task The_image_is_read_back_by_id_and_deleted_by_id()
    {
        var org = await _client.CreatePlatformAsync();
        var image = await _client.UploadImageAsync(org, SampleImages.Png(), name: "By id");

        var read = await _client.GetOkObjectAsync(ImageRequests.Image(org, image.Id()));
        Assert.Equal(image.ToJsonString(), read.ToJsonString());

        var delete = await _client.DeleteAsync(ImageRequests.Image(org, image.Id()));
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Empty(await delete.Content.ReadAsByteArrayAsync());

        var gone = await _client.GetAsync(ImageRequests.Image(org, image.Id()));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await gone.ProblemAsync();
        var again = await _client.DeleteAsync(ImageRequests.Image(org, image.Id()));
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        await again.ProblemAsync();
        Assert.Empty(await _client.SearchImagesAsync(org, ""));
    }

    [Fact]
    public async Task Paths_work_with_and_without_the_trailing_slash()
    {
        var org = await _client.CreatePlatformAsync();

        var post = await _client.PostAsync(ImageRequests.Images(org).TrimEnd('/'), ImageRequests.Upload(SampleImages.Png()));
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        var id = (await post.JsonAsync())["id"]!.GetValue<long>();

        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(ImageRequests.Images(org).TrimEnd('/') + "?query=")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(ImageRequests.Image(org, id).TrimEnd('/'))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync(ImageRequests.Image(org, id).TrimEnd('/'))).StatusCode);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    public async Task An_image_id_that_is_not_an_integer_is_not_an_image(string id)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.GetAsync(ImageRequests.Images(org) + id + "/");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Every_image_call_on_an_unknown_org_is_a_404_problem()
    {
        var org = TestRequests.NewOrg();

        var responses = new[]
        {
            await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(SampleImages.Png())),
            await _client.GetAsync(ImageRequests.Search(org, "")),
            await _client.GetAsync(ImageRequests.Image(org, 1)),
            await _client.DeleteAsync(ImageRequests.Image(org, 1)),
        };

        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains(org, (await response.ProblemAsync())["detail"]!.GetValue<string>());
        }
        Assert.Empty(ImageRequests.BlobFiles(_factory, org));
    }

    [Fact]
    public async Task An_invalid_org_key_in_the_path_is_a_400_problem()
    {
        var response = await _client.PostAsync(ImageRequests.Images("Not_An_Org"), ImageRequests.Upload(SampleImages.Png()));

        await response.InvalidAsync("org");
    }
}
