using System.Net;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Images;

/// <summary>
/// The image-name rule (Validation table): trimmed; blank or absent means the uploaded file's name
/// with directories dropped, control characters removed and cut to 254; otherwise at most 254 code
/// points and no control characters. A name never reaches a path: URLs are content-addressed.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ImageNameTests(SqliteApiFixture fixture)
{
    private readonly ApiFactory _factory = fixture.Factory;
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    private async Task<string> UploadNamedAsync(string? name, string fileName = "logo.png")
    {
        var org = await _client.CreatePlatformAsync();
        return (await _client.UploadImageAsync(org, SampleImages.Png(), fileName, "image/png", name)).Name();
    }

    private async Task<string> UploadRawAsync(string fileName, string? name = null)
    {
        var org = await _client.CreatePlatformAsync();
        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.RawUpload(SampleImages.Png(), fileName, name));
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        return (await response.JsonAsync())["name"]!.GetValue<string>();
    }

    [Fact]
    public async Task An_absent_name_is_the_file_name()
    {
        Assert.Equal("logo.png", await UploadNamedAsync(null));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\t \n")]
    public async Task A_blank_name_is_the_file_name(string blank)
    {
        Assert.Equal("Badge Front.png", await UploadNamedAsync(blank, "Badge Front.png"));
    }

    [Fact]
    public async Task A_given_name_is_trimmed_and_kept_as_sent()
    {
        Assert.Equal("Certificate Icon – Ünïcödé 😀 東京", await UploadNamedAsync("  Certificate Icon – Ünïcödé 😀 東京 \t"));
    }

    [Theory]
    [InlineData("../../etc/passwd.png", "passwd.png")]
    [InlineData("/var/www/html/logo.png", "logo.png")]
    [InlineData("C:\\Users\\dean\\Pictures\\seal.png", "seal.png")]
    [InlineData("..\\..\\windows\\win.ini.png", "win.ini.png")]
    [InlineData("dir/sub\\mixed/last.png", "last.png")]
    public async Task The_default_name_drops_every_directory_of_the_file_name(string fileName, string expected)
    {
        Assert.Equal(expected, await UploadRawAsync(fileName));
    }

    [Fact]
    public async Task The_default_name_keeps_a_non_ascii_file_name()
    {
        Assert.Equal("Ünïcödé 東京 😀.png", await UploadNamedAsync(null, "Ünïcödé 東京 😀.png"));
    }

    [Fact]
    public async Task The_default_name_has_control_characters_removed()
    {
        Assert.Equal("logoname.png", await UploadRawAsync("lo\u0001go\u007Fna\u0085me.png"));
    }

    [Fact]
    public async Task The_default_name_is_cut_to_254_code_points()
    {
        var name = await UploadNamedAsync(null, TestRequests.Repeat("😀", 300) + ".png");

        Assert.Equal(TestRequests.Repeat("😀", 254), name);
    }

    [Fact]
    public async Task A_file_name_of_only_directories_still_gives_a_name()
    {
        var name = await UploadRawAsync("some/dir/");

        Assert.False(string.IsNullOrWhiteSpace(name));
        Assert.DoesNotContain("/", name);
    }

    [Fact]
    public async Task A_name_that_looks_like_a_path_is_only_a_name_and_never_reaches_storage_paths()
    {
        var org = await _client.CreatePlatformAsync();

        var image = await _client.UploadImageAsync(org, SampleImages.Png(), "../../etc/passwd.png", "image/png", name: "../../etc/passwd.png");

        Assert.Equal("../../etc/passwd.png", image.Name());
        Assert.Matches($"^/media/uploaded_images/{org}/[0-9a-f]{{64}}\\.png$", image.MediaPath());
        var stored = Assert.Single(ImageRequests.BlobFiles(_factory, org));
        Assert.Matches("^[0-9a-f]{64}$", Path.GetFileName(stored));
        Assert.Equal(Path.Combine(_factory.DataDirectory, "blobs", _factory.ServiceId, org), Path.GetDirectoryName(stored));
    }

    [Theory]
    [InlineData("x", 254)]
    [InlineData("😀", 254)]
    [InlineData("東", 254)]
    public async Task A_name_of_254_code_points_is_accepted(string unit, int count)
    {
        var name = TestRequests.Repeat(unit, count);

        Assert.Equal(name, await UploadNamedAsync(name));
    }

    [Theory]
    [InlineData("x")]
    [InlineData("😀")]
    public async Task A_name_of_255_code_points_is_a_400_naming_the_name_field(string unit)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(SampleImages.Png(), "logo.png", name: TestRequests.Repeat(unit, 255)));

        await response.InvalidAsync("name");
        Assert.Empty(await _client.SearchImagesAsync(org, ""));
    }

    [Theory]
    [InlineData("Bell\u0007")]
    [InlineData("Tab\tinside")]
    [InlineData("Line\nbreak")]
    [InlineData("Null\u0000char")]
    [InlineData("Delete\u007F")]
    [InlineData("C1\u0085control")]
    public async Task A_name_with_a_control_character_is_a_400_naming_the_name_field(string name)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(SampleImages.Png(), "logo.png", name: name));

        await response.InvalidAsync("name");
        Assert.Empty(await _client.SearchImagesAsync(org, ""));
    }

    [Fact]
    public async Task A_refused_name_stores_no_bytes()
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(SampleImages.Png(), "logo.png", name: "Bad\u0007"));

        await response.InvalidAsync("name");
        Assert.Empty(ImageRequests.BlobFiles(_factory, org));
    }
}
