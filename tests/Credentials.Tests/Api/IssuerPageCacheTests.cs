using System.Net;
using System.Text.Json.Nodes;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Credentials.Grains;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Credentials.Tests.Api;

/// <summary>ADR 0018: issuer pages are written from cached JSON only while the org grain says they are unchanged.</summary>
[Collection(ApiCollection.Name)]
public sealed class IssuerPageCacheTests(SqliteApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    private IssuerPageCache Pages => fixture.Factory.Services.GetRequiredService<IssuerPageCache>();

    [Fact]
    public async Task A_cached_page_is_byte_for_byte_the_page_serialised_afresh()
    {
        var org = await _client.CreatePlatformAsync();
        // Characters an encoder may escape (HTML-sensitive, non-ASCII, astral) must come out the same.
        await _client.CreateIssuerAsync(org, new
        {
            name = "<Ünï> & \"quotes\" + 😀", entityId = "escaped", email = "a+b@example.com", url = "https://example.org/?a=1&b=<2>",
            allowed_template_tags = new[] { "t'1", "ü" }, signatories = new Dictionary<string, string> { ["Dean"] = "Dr. Ö <x>" },
        });
        await _client.CreateIssuersInOrderAsync(org, "Second", "Third");

        var fresh = await GetBytesAsync(org, "limit=2&offset=0");
        Assert.NotNull(Pages.Get(new IssuerPageCache.Key(org, null, 0, 2)));
        var cached = await GetBytesAsync(org, "limit=2&offset=0");

        Assert.Equal(fresh, cached);
        // The single-issuer answer ([{...}]) is serialised by the framework's own path: the page holds
        // that item's exact bytes, escapes included.
        var single = await _client.GetStringAsync($"{TestRequests.Issuers(org)}escaped/");
        Assert.Contains("\"data\":[" + single[1..^1] + ",{", System.Text.Encoding.UTF8.GetString(cached), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_write_shows_in_the_next_read_of_a_cached_page()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuersInOrderAsync(org, "One", "Two");
        var url = TestRequests.Issuers(org);

        await _client.ListIssuersAsync(org);
        Assert.Equal(["One", "Two"], Names(await _client.ListIssuersAsync(org)));

        Assert.Equal(HttpStatusCode.OK, (await _client.PatchJsonAsync($"{url}{await EntityIdAsync(org, 0)}/", """{"name":"One, renamed"}""")).StatusCode);
        Assert.Equal(["One, renamed", "Two"], Names(await _client.ListIssuersAsync(org)));

        await _client.CreateIssuerAsync(org, new { name = "Three" });
        var page = await _client.ListIssuersAsync(org);
        Assert.Equal(["One, renamed", "Two", "Three"], Names(page));
        Assert.Equal(3, page["result"]!["count"]!.GetValue<int>());

        Assert.Equal(HttpStatusCode.OK, (await _client.PutJsonAsync($"{url}{await EntityIdAsync(org, 1)}/", """{"name":"Two, replaced"}""")).StatusCode);
        Assert.Equal(["One, renamed", "Two, replaced", "Three"], Names(await _client.ListIssuersAsync(org)));

        Assert.Equal(HttpStatusCode.OK, (await _client.DeleteAsync($"{url}{await EntityIdAsync(org, 0)}/")).StatusCode);
        page = await _client.ListIssuersAsync(org);
        Assert.Equal(["Two, replaced", "Three"], Names(page));
        Assert.Equal(2, page["result"]!["count"]!.GetValue<int>());
        // A search's page and count follow the writes too.
        Assert.Equal(["Three"], Names(await _client.ListIssuersAsync(org, "q=three")));
        await _client.CreateIssuerAsync(org, new { name = "Three again" });
        Assert.Equal(["Three", "Three again"], Names(await _client.ListIssuersAsync(org, "q=three")));
    }

    [Fact]
    public async Task The_grain_answers_unchanged_only_for_the_current_version()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuersInOrderAsync(org, "Only");
        var grain = fixture.Factory.Services.GetRequiredService<IGrainFactory>().GetGrain<IOrgGrain>(org);

        var page = (await grain.ListIssuers(null, 0, 50)).Value!;
        Assert.False(page.Unchanged);
        Assert.True((await grain.ListIssuersUnlessUnchanged(null, 0, 50, page.Version)).Value!.Unchanged);

        await _client.CreateIssuerAsync(org, new { name = "Another" });
        var after = (await grain.ListIssuersUnlessUnchanged(null, 0, 50, page.Version)).Value!;
        Assert.False(after.Unchanged);
        Assert.Equal(2, after.Items.Count);
        Assert.NotEqual(page.Version, after.Version);
    }

    [Fact]
    public void The_cache_stays_within_its_byte_budget_and_skips_pages_too_large_for_it()
    {
        const long budget = 64 * 1024;
        var cache = new IssuerPageCache(Options.Create(new ApiOptions { PageCacheBytes = budget }));
        var json = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)
        {
            TypeInfoResolver = Credentials.Api.Contracts.ApiJsonContext.Default,
        };
        var items = Enumerable.Range(0, 10).Select(i => new Issuer($"e{i}", new string('x', 100), null, null, null, null, new Dictionary<string, string>())).ToArray();

        for (var i = 0; i < 500; i++)
        {
            cache.Add(new IssuerPageCache.Key($"org-{i}", null, 0, 10), new IssuerPage(10, items, null, Version: i), $"org-{i}", json);
            Assert.InRange(cache.Bytes, 0, budget);
        }
        Assert.NotNull(cache.Get(new IssuerPageCache.Key("org-499", null, 0, 10)));

        var huge = Enumerable.Range(0, 100).Select(i => new Issuer($"e{i}", new string('y', 200), null, null, null, null, new Dictionary<string, string>())).ToArray();
        var data = cache.Add(new IssuerPageCache.Key("huge", null, 0, 100), new IssuerPage(100, huge, null, Version: 1), "huge", json);
        Assert.True(data.Length > budget / 8);
        Assert.Null(cache.Get(new IssuerPageCache.Key("huge", null, 0, 100)));
    }

    private async Task<byte[]> GetBytesAsync(string org, string query)
    {
        var response = await _client.GetAsync($"{TestRequests.Issuers(org)}?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(response.Content.Headers.ContentLength, (await response.Content.ReadAsByteArrayAsync()).Length);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private async Task<string> EntityIdAsync(string org, int index) =>
        (await _client.ListIssuersAsync(org))["result"]!["data"]![index]!["entityId"]!.GetValue<string>();

    private static string[] Names(JsonObject page) =>
        page["result"]!["data"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()).ToArray();
}
