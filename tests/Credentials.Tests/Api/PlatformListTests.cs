using System.Net;
using System.Text.Json.Nodes;
using Credentials.Grains;
using Credentials.Tests.Auth;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Api;

/// <summary>
/// <c>GET /api/platforms/</c>: every platform in key order, paged with A3's limit/offset rules in
/// Django REST Framework's <c>count/next/previous/results</c> shape, from the org directory in
/// grain replies of bounded size. A service of its own, so the count is exactly what these tests made.
/// </summary>
public sealed class PlatformListTests(PlatformListTests.Service service) : IClassFixture<PlatformListTests.Service>
{
    /// <summary>Keys made out of order, with a name each.</summary>
    public static readonly string[] Keys = ["m-platform", "a-platform", "z-platform", "b_platform", "0-platform"];

    private static readonly string[] Sorted = Keys.Order(StringComparer.Ordinal).ToArray();

    public sealed class Service : IAsyncLifetime
    {
        /// <summary>Room for about two platforms per grain reply: a page takes several replies.</summary>
        public const int ReplyBytes = 200;

        public ApiFactory Factory { get; } = new() { Settings = { ["Limits:MaxReplyBytes"] = ReplyBytes.ToString() } };

        public async Task InitializeAsync()
        {
            var admin = Factory.AdminClient();
            foreach (var key in Keys) await admin.CreatePlatformAsync(key, $"Name of {key}");
        }

        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    private readonly HttpClient _admin = service.Factory.AdminClient();

    private async Task<JsonObject> Page(string query) => await _admin.GetOkObjectAsync("/api/platforms/" + query);

    private static string[] KeysOf(JsonObject page) => page["results"]!.AsArray().Select(p => p!["key"]!.GetValue<string>()).ToArray();

    [Fact]
    public async Task The_super_admin_sees_every_platform_in_key_order_with_its_name_and_creation_time()
    {
        var page = await Page("");

        Assert.Equal(["count", "next", "previous", "results"], page.Select(kv => kv.Key));
        Assert.Equal(Keys.Length, page["count"]!.GetValue<int>());
        Assert.Null(page["next"]);
        Assert.Null(page["previous"]);
        Assert.Equal(Sorted, KeysOf(page));
        foreach (var platform in page["results"]!.AsArray())
        {
            var key = platform!["key"]!.GetValue<string>();
            Assert.Equal((await _admin.GetOkObjectAsync($"/api/platforms/{key}/")).ToJsonString(), platform.ToJsonString());
            Assert.Equal($"Name of {key}", platform["name"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Limit_and_offset_page_through_the_list_with_absolute_links()
    {
        var middle = await Page("?limit=2&offset=2");

        Assert.Equal(Sorted[2..4], KeysOf(middle));
        Assert.Equal(Keys.Length, middle["count"]!.GetValue<int>());
        Assert.Equal("http://localhost/api/platforms/?limit=2&offset=4", middle["next"]!.GetValue<string>());
        Assert.Equal("http://localhost/api/platforms/?limit=2&offset=0", middle["previous"]!.GetValue<string>());

        var last = await _admin.GetOkObjectAsync(middle["next"]!.GetValue<string>());
        Assert.Equal(Sorted[4..], KeysOf(last));
        Assert.Null(last["next"]);
        Assert.Empty(KeysOf(await Page("?offset=99999999999999999999")));
    }

    [Fact]
    public async Task A_limit_above_the_maximum_is_clamped_and_empty_values_count_as_absent()
    {
        var clamped = await Page("?limit=1000000&offset=1");
        Assert.Equal(Sorted[1..], KeysOf(clamped));
        Assert.Equal("http://localhost/api/platforms/?limit=1000&offset=0", clamped["previous"]!.GetValue<string>());

        Assert.Equal(Sorted, KeysOf(await Page("?limit=&offset=")));
        Assert.Equal(Sorted, KeysOf(await _admin.GetOkObjectAsync("/api/platforms")));
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=-1", "limit")]
    [InlineData("?limit=two", "limit")]
    [InlineData("?offset=-1", "offset")]
    [InlineData("?offset=1.5", "offset")]
    public async Task A_bad_limit_or_offset_is_a_400_naming_it(string query, string field)
    {
        Assert.Equal([field], await (await _admin.GetAsync("/api/platforms/" + query)).ErrorFieldsAsync());
    }

    [Fact]
    public async Task One_grain_reply_carries_at_most_the_configured_bytes_and_says_where_to_go_on()
    {
        var directory = service.Factory.Services.GetRequiredService<IGrainFactory>().GetGrain<IOrgDirectoryGrain>(0);

        var first = await directory.ListPlatforms(0, 1000);
        Assert.InRange(first.Items.Count, 1, Keys.Length - 1);
        Assert.Equal(first.Items[^1].Key, first.ContinueAfter);

        // Followed to the end, the replies are the whole list, each key once.
        var keys = first.Items.Select(p => p.Key).ToList();
        for (var page = first; page.ContinueAfter is { } after;)
        {
            page = await directory.ListPlatforms(0, 1000, after);
            keys.AddRange(page.Items.Select(p => p.Key));
        }
        Assert.Equal(Sorted, keys);
    }

    [Fact]
    public async Task Org_tokens_and_user_tokens_are_refused_and_anonymous_callers_challenged()
    {
        var orgToken = await _admin.CreateOrgTokenAsync(Keys[0]);

        Assert.Equal(HttpStatusCode.Forbidden, (await service.Factory.ClientWith("Api-Token", orgToken).GetAsync("/api/platforms/")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await service.Factory.ClientWith("Bearer", global::Credentials.Tests.Auth.Credentials.Jwt(Keys[0], "boss", "admin")).GetAsync("/api/platforms/")).StatusCode);
        var anonymous = await service.Factory.ClientWith(null, null).GetAsync("/api/platforms/");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.NotEmpty(anonymous.Headers.WwwAuthenticate);
    }
}
