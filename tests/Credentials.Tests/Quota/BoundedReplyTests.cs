using System.Text.Json.Nodes;
using Credentials.Grains;
using Credentials.Grains.Quotas;
using Credentials.Tests.Images;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Quota;

/// <summary>
/// B6: no grain reply holds more than Limits:MaxReplyBytes of records; a larger page (A3) or search
/// (A1) is fetched in several replies and answered whole, in the same shape. A small bound makes an
/// org of a few hundred issuers behave like one of thousands of large ones.
/// </summary>
[Collection(Name)]
public sealed class BoundedReplyTests(BoundedReplyTests.Service service)
{
    public const string Name = "bounded-replies";
    private const int ReplyBytes = 4096;

    public sealed class Service : IAsyncLifetime
    {
        public ApiFactory Factory { get; } = new(Backend.Sqlite) { Settings = { ["Limits:MaxReplyBytes"] = ReplyBytes.ToString() } };

        public Task InitializeAsync()
        {
            _ = Factory.Server;
            return Task.CompletedTask;
        }

        public async Task DisposeAsync() => await Factory.DisposeAsync();
    }

    [CollectionDefinition(Name)]
    public sealed class Collection : ICollectionFixture<Service>;

    private readonly HttpClient _client = service.Factory.AdminClient();

    private IOrgGrain Grain(string org) => service.Factory.Services.GetRequiredService<IGrainFactory>().GetGrain<IOrgGrain>(org);

    /// <summary>An issuer of about 700 bytes: a few fill one reply.</summary>
    private static object LargeIssuer(int i) => new
    {
        name = $"{(i % 2 == 0 ? "even" : "odd")} issuer {i:D3}",
        url = "https://example.com/" + new string('u', 300),
        signatories = new Dictionary<string, string> { ["Dean"] = new string('d', 300) },
    };

    private async Task<string> OrgWithIssuersAsync(int count)
    {
        var org = await _client.CreatePlatformAsync();
        for (var start = 0; start < count; start += 50)
        {
            await Task.WhenAll(Enumerable.Range(start, Math.Min(50, count - start)).Select(i => _client.CreateIssuerAsync(org, LargeIssuer(i))));
        }
        return org;
    }

    [Fact]
    public async Task A_grain_reply_holds_at_most_the_reply_bound_and_says_where_to_go_on()
    {
        var org = await OrgWithIssuersAsync(40);
        var grain = Grain(org);

        var all = new List<Issuer>();
        var page = (await grain.ListIssuers(null, 0, 1000)).Value!;
        var replies = 1;
        while (true)
        {
            Assert.Equal(40, page.Count);
            Assert.NotEmpty(page.Items);
            Assert.True(page.Items.Sum(RecordSize.Of) <= ReplyBytes, "a reply passed the bound");
            all.AddRange(page.Items);
            if (page.ContinueAfter is not { } after) break;
            page = (await grain.ListIssuers(null, 0, 1000 - all.Count, after)).Value!;
            replies++;
        }

        Assert.True(replies >= 5, $"{replies} replies");
        Assert.Equal(40, all.Select(i => i.EntityId).Distinct().Count());
        Assert.Equal(all.Select(i => i.EntityId), (await _client.ListIssuersAsync(org, "limit=1000"))["result"]!["data"]!.AsArray().Select(i => i!["entityId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_page_of_1000_larger_than_one_reply_is_served_whole_in_creation_order()
    {
        var org = await OrgWithIssuersAsync(300);

        var whole = await _client.ListIssuersAsync(org, "limit=1000");
        var stitched = new List<JsonNode>();
        for (var offset = 0; offset < 300; offset += 7)
        {
            stitched.AddRange((await _client.ListIssuersAsync(org, $"limit=7&offset={offset}"))["result"]!["data"]!.AsArray().Select(i => i!.DeepClone()));
        }

        var result = whole["result"]!.AsObject();
        Assert.Equal(["status", "result"], whole.Select(p => p.Key));
        Assert.Equal(["next", "previous", "count", "data", "num_pages", "page_number", "max_page_size"], result.Select(p => p.Key));
        Assert.Equal(300, result["count"]!.GetValue<int>());
        Assert.Null(result["next"]);
        Assert.Equal(1, result["num_pages"]!.GetValue<int>());
        Assert.Equal(1000, result["max_page_size"]!.GetValue<int>());
        Assert.Equal(stitched.Select(i => i.ToJsonString()), result["data"]!.AsArray().Select(i => i!.ToJsonString()));
    }

    [Fact]
    public async Task A_search_page_past_one_reply_keeps_its_count_offset_and_limit()
    {
        var org = await OrgWithIssuersAsync(60);

        var page = (await _client.ListIssuersAsync(org, "q=odd&limit=25&offset=3"))["result"]!.AsObject();

        Assert.Equal(30, page["count"]!.GetValue<int>());
        // Issuers created together are in the order they were committed: the whole list says which.
        var expected = (await _client.ListIssuersAsync(org, "limit=1000")).Names().Where(n => n.StartsWith("odd", StringComparison.Ordinal)).Skip(3).Take(25);
        Assert.Equal(expected, page["data"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_image_search_larger_than_one_reply_returns_every_match_oldest_first()
    {
        var org = await _client.CreatePlatformAsync();
        var bytes = SampleImages.Png(seed: 5);
        var ids = new List<long>();
        for (var i = 0; i < 60; i++)
        {
            ids.Add((await _client.UploadImageAsync(org, bytes, name: $"{(i % 3 == 0 ? "third" : "other")} {i:D2} {new string('n', 200)}")).Id());
        }
        var grain = Grain(org);
        var first = (await grain.SearchImages("", 0, int.MaxValue)).Value!;
        Assert.NotNull(first.ContinueAfter);
        Assert.True(first.Items.Sum(RecordSize.Of) <= ReplyBytes, "a reply passed the bound");

        Assert.Equal(ids, (await _client.SearchImagesAsync(org, "")).Select(i => i.Id()));
        Assert.Equal(ids.Where((_, i) => i % 3 == 0), (await _client.SearchImagesAsync(org, "THIRD")).Select(i => i.Id()));
        Assert.Equal(ids.Skip(5).Take(37), (await _client.SearchImagesAsync(org, "", "&offset=5&limit=37")).Select(i => i.Id()));
        Assert.Equal(ids.Where((_, i) => i % 3 != 0).Skip(2).Take(30), (await _client.SearchImagesAsync(org, "other", "&offset=2&limit=30")).Select(i => i.Id()));
    }
}
