using System.Net;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Images;

/// <summary>
/// A1: <c>query</c> is required (empty matches all); a case-insensitive, culture-invariant substring
/// of the name; a plain JSON array, oldest first; optional limit/offset with A3's rules.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class ImageSearchTests(SqliteApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    /// <summary>Uploads one image per name, one after another, so their order is known.</summary>
    private async Task<(string Org, long[] Ids)> OrgWithImagesAsync(params string[] names)
    {
        var org = await _client.CreatePlatformAsync();
        var ids = new long[names.Length];
        for (var i = 0; i < names.Length; i++) ids[i] = (await _client.UploadImageAsync(org, SampleImages.Png(seed: i), name: names[i])).Id();
        return (org, ids);
    }

    private static string[] Names(IEnumerable<System.Text.Json.Nodes.JsonObject> images) => images.Select(i => i.Name()).ToArray();

    [Fact]
    public async Task Without_query_the_search_is_a_400_naming_the_query_parameter()
    {
        var (org, _) = await OrgWithImagesAsync("Logo");

        var bare = await _client.GetAsync(ImageRequests.Images(org));
        var otherParameter = await _client.GetAsync(ImageRequests.Images(org) + "?q=Logo");

        await bare.InvalidAsync("query");
        await otherParameter.InvalidAsync("query");
    }

    [Fact]
    public async Task An_empty_query_matches_every_image_oldest_first()
    {
        var (org, ids) = await OrgWithImagesAsync("Charlie", "alpha", "Bravo");

        var found = await _client.SearchImagesAsync(org, "");

        Assert.Equal(["Charlie", "alpha", "Bravo"], Names(found));
        Assert.Equal(ids, found.Select(i => i.Id()));
    }

    [Fact]
    public async Task The_answer_is_a_plain_array_of_image_objects_like_the_upload_answer()
    {
        var org = await _client.CreatePlatformAsync();
        var uploaded = await _client.UploadImageAsync(org, SampleImages.Png(), name: "Certificate Icon");

        var response = await _client.GetAsync(ImageRequests.Search(org, "icon"));

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var array = (await response.JsonAsync()).AsArray();
        Assert.Equal(uploaded.ToJsonString(), Assert.Single(array)!.ToJsonString());
    }

    [Theory]
    [InlineData("logo", new[] { "Logo", "Big LOGO", "logotype" })]
    [InlineData("LOGO", new[] { "Logo", "Big LOGO", "logotype" })]
    [InlineData("G OT", new[] { "log otype" })]
    [InlineData("seal", new[] { "Seal of the Ärztekammer" })]
    [InlineData("ÄRZTE", new[] { "Seal of the Ärztekammer" })]
    [InlineData("ärzte", new[] { "Seal of the Ärztekammer" })]
    [InlineData("ΣΟΦΊΑ", new[] { "σοφία badge" })]
    [InlineData("школа", new[] { "ШКОЛА №1" })]
    [InlineData("東京", new[] { "東京 campus" })]
    [InlineData("😀", new[] { "smile 😀" })]
    [InlineData("%", new[] { "100% done" })]
    [InlineData("_", new[] { "under_score" })]
    [InlineData("nothing like this", new string[0])]
    public async Task The_query_is_a_case_insensitive_substring_of_the_name(string query, string[] expected)
    {
        var (org, _) = await OrgWithImagesAsync(
            "Logo", "Big LOGO", "Seal of the Ärztekammer", "σοφία badge", "ШКОЛА №1", "東京 campus", "smile 😀", "100% done",
            "under_score", "log otype", "logotype");

        var found = await _client.SearchImagesAsync(org, query);

        Assert.Equal(expected, Names(found));
    }

    [Fact]
    public async Task Limit_and_offset_bound_the_matches_in_order()
    {
        var (org, ids) = await OrgWithImagesAsync("a1", "b", "a2", "a3", "a4", "a5");

        Assert.Equal(["a1", "a2"], Names(await _client.SearchImagesAsync(org, "a", "&limit=2")));
        Assert.Equal(["a3", "a4"], Names(await _client.SearchImagesAsync(org, "a", "&limit=2&offset=2")));
        Assert.Equal(["a5"], Names(await _client.SearchImagesAsync(org, "a", "&limit=2&offset=4")));
        Assert.Equal(["a4", "a5"], Names(await _client.SearchImagesAsync(org, "a", "&offset=3")));
        Assert.Empty(await _client.SearchImagesAsync(org, "a", "&offset=5"));
        Assert.Empty(await _client.SearchImagesAsync(org, "a", "&offset=99999999999999999999"));
        Assert.Equal(["a1", "b", "a2"], Names(await _client.SearchImagesAsync(org, "", "&limit=3")));
        Assert.Equal(6, (await _client.SearchImagesAsync(org, "", "&limit=99999999999999999999")).Length);
        Assert.Equal(ids, (await _client.SearchImagesAsync(org, "", "&limit=&offset=")).Select(i => i.Id()));
    }

    [Fact]
    public async Task Without_a_limit_every_match_is_returned_even_beyond_a_page()
    {
        var org = await _client.CreatePlatformAsync();
        await Task.WhenAll(Enumerable.Range(0, 60).Select(i => _client.UploadImageAsync(org, SampleImages.Png(seed: i), name: $"many {i}")));

        var found = await _client.SearchImagesAsync(org, "MANY");

        Assert.Equal(60, found.Length);
        Assert.Equal(found.Select(i => i.Id()).Order(), found.Select(i => i.Id()));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=1.5", "limit")]
    [InlineData("limit=%201", "limit")]
    [InlineData("offset=-1", "offset")]
    [InlineData("offset=x", "offset")]
    [InlineData("offset=2e3", "offset")]
    public async Task A_bad_limit_or_offset_is_a_400_naming_it(string parameter, string field)
    {
        var (org, _) = await OrgWithImagesAsync("x");

        var response = await _client.GetAsync(ImageRequests.Search(org, "") + "&" + parameter);

        await response.InvalidAsync(field);
    }

    [Fact]
    public async Task Deleted_images_are_no_longer_found()
    {
        var (org, ids) = await OrgWithImagesAsync("keep", "drop", "keep too");

        await _client.DeleteAsync(ImageRequests.Image(org, ids[1]));

        Assert.Equal(["keep", "keep too"], Names(await _client.SearchImagesAsync(org, "")));
    }

    [Fact]
    public async Task Another_orgs_images_are_never_found()
    {
        var (org, _) = await OrgWithImagesAsync("Mine");
        var (other, _) = await OrgWithImagesAsync("Mine as well");

        Assert.Equal(["Mine"], Names(await _client.SearchImagesAsync(org, "mine")));
        Assert.Equal(["Mine as well"], Names(await _client.SearchImagesAsync(other, "mine")));
    }
}
