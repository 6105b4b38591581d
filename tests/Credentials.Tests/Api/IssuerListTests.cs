using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Web;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Api;

/// <summary>A3: the issuer list — its envelope, paging rules and links, order, and name search.</summary>
[Collection(ApiCollection.Name)]
public sealed class IssuerListTests(SqliteApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    [Fact]
    public async Task An_empty_list_has_exactly_the_contract_envelope()
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.GetAsync(TestRequests.Issuers(org));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            """{"status":{"success":true,"description":"Ok"},"result":{"next":null,"previous":null,"count":0,"data":[],"num_pages":1,"page_number":1,"max_page_size":1000}}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task List_items_are_whole_issuer_objects()
    {
        var org = await _client.CreatePlatformAsync();
        var created = await _client.CreateIssuerAsync(org, new
        {
            name = "Listed", entityId = "listed", email = "a@example.com", allowed_template_tags = new[] { "t" },
            signatories = new Dictionary<string, string> { ["Dean"] = "Dr. L" },
        });

        var list = await _client.ListIssuersAsync(org);

        Assert.Equal(created.ToJsonString(), Assert.Single(list["result"]!["data"]!.AsArray())!.ToJsonString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(49)]
    [InlineData(50)]
    [InlineData(51)]
    [InlineData(1001)]
    public async Task Following_next_links_visits_every_issuer_once_oldest_first_fifty_at_a_time(int count)
    {
        const int batch = 100;
        var org = await _client.CreatePlatformAsync();
        var created = await _client.CreateIssuersAsync(org, count, i => $"Batch {i / batch:00} issuer {i:0000}", batch);
        var expectedPages = Math.Max(1, (count + 49) / 50);

        var seen = new List<JsonObject>();
        var page = (await _client.ListIssuersAsync(org))["result"]!.AsObject();
        for (var p = 0; ; p++)
        {
            var offset = p * 50;
            Assert.Equal(count, page["count"]!.GetValue<int>());
            Assert.Equal(expectedPages, page["num_pages"]!.GetValue<int>());
            Assert.Equal(p + 1, page["page_number"]!.GetValue<int>());
            Assert.Equal(1000, page["max_page_size"]!.GetValue<int>());
            Assert.Equal(Math.Min(50, count - offset), page["data"]!.AsArray().Count);
            AssertLink(page["previous"], org, q: null, limit: 50, offset: p == 0 ? null : offset - 50);
            AssertLink(page["next"], org, q: null, limit: 50, offset: offset + 50 < count ? offset + 50 : null);
            seen.AddRange(page["data"]!.AsArray().Select(i => i!.AsObject()));
            if (page["next"] is not { } next) break;
            page = (await _client.GetOkObjectAsync(next.GetValue<string>()))["result"]!.AsObject();
        }

        var ids = seen.Select(i => i["entityId"]!.GetValue<string>()).ToArray();
        Assert.Equal(count, ids.Distinct().Count());
        Assert.Equal(created.Select(c => c["entityId"]!.GetValue<string>()).Order(), ids.Order());
        // Creation order: each batch was created after the previous one finished.
        var batches = seen.Select(i => int.Parse(i["name"]!.GetValue<string>()[6..8], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(batches.Order(), batches);

        // The same order, in pages of the maximum size, with the limit clamped however large it was asked.
        var big = (await _client.ListIssuersAsync(org, "limit=99999999999999999999"))["result"]!.AsObject();
        Assert.Equal(Math.Max(1, (count + 999) / 1000), big["num_pages"]!.GetValue<int>());
        Assert.Equal(ids.Take(1000), big["data"]!.AsArray().Select(i => i!["entityId"]!.GetValue<string>()));
        AssertLink(big["previous"], org, q: null, limit: 1000, offset: null);
        AssertLink(big["next"], org, q: null, limit: 1000, offset: count > 1000 ? 1000 : null);
        if (big["next"] is { } bigNext)
        {
            var last = (await _client.GetOkObjectAsync(bigNext.GetValue<string>()))["result"]!.AsObject();
            Assert.Equal(ids.Skip(1000), last["data"]!.AsArray().Select(i => i!["entityId"]!.GetValue<string>()));
            Assert.Equal(2, last["page_number"]!.GetValue<int>());
            AssertLink(last["previous"], org, q: null, limit: 1000, offset: 0);
            AssertLink(last["next"], org, q: null, limit: 1000, offset: null);
        }
    }

    [Fact]
    public async Task Issuers_stay_in_creation_order_across_pages_and_keep_their_place_when_changed()
    {
        var org = await _client.CreatePlatformAsync();
        var created = await _client.CreateIssuersInOrderAsync(org, "One", "Two", "Three", "Four", "Five", "Six", "Seven");
        string Id(int i) => created[i]["entityId"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await _client.PatchJsonAsync(TestRequests.Issuer(org, Id(2)), """{"name":"Three (patched)"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.PutJsonAsync(TestRequests.Issuer(org, Id(0)), """{"name":"One (replaced)"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.DeleteAsync(TestRequests.Issuer(org, Id(4)))).StatusCode);
        await _client.CreateIssuerAsync(org, new { name = "Eight" });

        var names = new List<string>();
        for (var offset = 0; offset < 10; offset += 2)
        {
            names.AddRange((await _client.ListIssuersAsync(org, $"limit=2&offset={offset}")).Names());
        }

        Assert.Equal(["One (replaced)", "Two", "Three (patched)", "Four", "Six", "Seven", "Eight"], names);
        Assert.Equal(names, (await _client.ListIssuersAsync(org)).Names());
    }

    /// <summary>limit, offset, page_number, num_pages, items on the page, previous offset, next offset — over 10 issuers.</summary>
    public static TheoryData<int, int, int, int, int, int?, int?> PageMath => new()
    {
        { 3, 0, 1, 4, 3, null, 3 },
        { 3, 3, 2, 4, 3, 0, 6 },
        { 3, 2, 1, 4, 3, 0, 5 },
        { 3, 7, 3, 4, 3, 4, null },
        { 3, 9, 4, 4, 1, 6, null },
        { 4, 5, 2, 3, 4, 1, 9 },
        { 10, 0, 1, 1, 10, null, null },
        { 11, 0, 1, 1, 10, null, null },
        { 1, 0, 1, 10, 1, null, 1 },
        { 1, 9, 10, 10, 1, 8, null },
        { 5, 10, 3, 2, 0, 5, null },
        { 5, 100, 21, 2, 0, 95, null },
    };

    [Theory, MemberData(nameof(PageMath))]
    public async Task Page_number_num_pages_and_links_follow_from_limit_offset_and_count(
        int limit, int offset, int pageNumber, int numPages, int items, int? previous, int? next)
    {
        var org = await _client.CreatePlatformAsync();
        var created = await _client.CreateIssuersInOrderAsync(org, Enumerable.Range(0, 10).Select(i => $"Issuer {i}").ToArray());

        var page = (await _client.ListIssuersAsync(org, $"limit={limit}&offset={offset}"))["result"]!.AsObject();

        Assert.Equal(10, page["count"]!.GetValue<int>());
        Assert.Equal(pageNumber, page["page_number"]!.GetValue<int>());
        Assert.Equal(numPages, page["num_pages"]!.GetValue<int>());
        Assert.Equal(
            created.Skip(offset).Take(items).Select(i => i["entityId"]!.GetValue<string>()),
            page["data"]!.AsArray().Select(i => i!["entityId"]!.GetValue<string>()));
        AssertLink(page["previous"], org, q: null, limit, previous);
        AssertLink(page["next"], org, q: null, limit, next);
    }

    /// <summary>query string, effective limit, effective offset — over 3 issuers.</summary>
    public static TheoryData<string, int, int> AcceptedPaging => new()
    {
        { "", 50, 0 },
        { "limit=", 50, 0 },
        { "offset=", 50, 0 },
        { "limit=&offset=", 50, 0 },
        { "q=&limit=&offset=", 50, 0 },
        { "offset=0", 50, 0 },
        { "limit=1", 1, 0 },
        { "limit=2&offset=1", 2, 1 },
        { "limit=50", 50, 0 },
        { "limit=999", 999, 0 },
        { "limit=1000", 1000, 0 },
        { "limit=1001", 1000, 0 },
        { "limit=2147483648", 1000, 0 },
        { "limit=99999999999999999999", 1000, 0 },
        { "limit=99999999999999999999&offset=2", 1000, 2 },
        { "limit=&offset=2", 50, 2 },
    };

    [Theory, MemberData(nameof(AcceptedPaging))]
    public async Task Limit_defaults_to_50_is_clamped_to_1000_and_empty_values_count_as_absent(string query, int limit, int offset)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuersInOrderAsync(org, "A", "B", "C");

        var page = (await _client.ListIssuersAsync(org, query))["result"]!.AsObject();

        Assert.Equal(3, page["count"]!.GetValue<int>());
        Assert.Equal(Math.Max(0, Math.Min(limit, 3 - offset)), page["data"]!.AsArray().Count);
        Assert.Equal(offset / limit + 1, page["page_number"]!.GetValue<int>());
        Assert.Equal((3 + limit - 1) / limit, page["num_pages"]!.GetValue<int>());
        AssertLink(page["previous"], org, q: null, limit, offset > 0 ? Math.Max(0, offset - limit) : null);
        AssertLink(page["next"], org, q: null, limit, offset + limit < 3 ? offset + limit : null);
    }

    [Theory]
    [InlineData("9223372036854775807")]
    [InlineData("99999999999999999999")]
    public async Task An_offset_far_past_the_end_answers_an_empty_last_page(string offset)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuersInOrderAsync(org, "A", "B", "C");

        var page = (await _client.ListIssuersAsync(org, $"limit=2&offset={offset}"))["result"]!.AsObject();

        Assert.Equal(3, page["count"]!.GetValue<int>());
        Assert.Empty(page["data"]!.AsArray());
        Assert.Equal(2, page["num_pages"]!.GetValue<int>());
        Assert.Null(page["next"]);
        Assert.NotNull(page["previous"]);
    }

    /// <summary>query string, the parameter the 400 must name.</summary>
    public static TheoryData<string, string> RefusedPaging => new()
    {
        { "limit=0", "limit" },
        { "limit=-0", "limit" },
        { "limit=-1", "limit" },
        { "limit=-99999999999999999999", "limit" },
        { "limit=abc", "limit" },
        { "limit=1.5", "limit" },
        { "limit=1e3", "limit" },
        { "limit=0x10", "limit" },
        { "limit=%20", "limit" },
        { "limit=5abc", "limit" },
        { "offset=-1", "offset" },
        { "offset=-99999999999999999999", "offset" },
        { "offset=1.5", "offset" },
        { "offset=abc", "offset" },
        { "offset=%20", "offset" },
        { "limit=5&offset=-5", "offset" },
        { "q=x&limit=2&offset=x", "offset" },
    };

    [Theory, MemberData(nameof(RefusedPaging))]
    public async Task A_bad_limit_or_offset_is_a_400_naming_the_parameter(string query, string parameter)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "x" });

        var response = await _client.GetAsync(TestRequests.Issuers(org) + "?" + query);

        Assert.Equal([parameter], await response.ErrorFieldsAsync());
    }

    private static readonly string[] SearchNames =
    [
        "Ünïcödé Akademie",
        "Straße der Wissenschaft",
        "Московский университет",
        "東京大学",
        "Acme Academy",
        "ACME Labs",
        "Ελληνικό Πανεπιστήμιο",
        "R&D 100% Lab",
    ];

    /// <summary>q, the names it finds (creation order).</summary>
    public static TheoryData<string, string[]> Searches => new()
    {
        { "ünï", ["Ünïcödé Akademie"] },
        { "ÜNÏCÖDÉ", ["Ünïcödé Akademie"] },
        { "AKADEMIE", ["Ünïcödé Akademie"] },
        { "cödé aka", ["Ünïcödé Akademie"] },
        { "straße", ["Straße der Wissenschaft"] },
        { "STRAßE", ["Straße der Wissenschaft"] },
        { "WISSENSCHAFT", ["Straße der Wissenschaft"] },
        { "московский", ["Московский университет"] },
        { "УНИВЕРСИТЕТ", ["Московский университет"] },
        { "東京", ["東京大学"] },
        { "大学", ["東京大学"] },
        { "ΠΑΝΕΠΙΣΤΉΜΙΟ", ["Ελληνικό Πανεπιστήμιο"] },
        { "acme", ["Acme Academy", "ACME Labs"] },
        { "ACADEMY", ["Acme Academy"] },
        { "e", ["Ünïcödé Akademie", "Straße der Wissenschaft", "Acme Academy", "ACME Labs"] },
        { "r&d 100%", ["R&D 100% Lab"] },
        { "Academy Acme", [] },
        { "zzz", [] },
        { "", ["Ünïcödé Akademie", "Straße der Wissenschaft", "Московский университет", "東京大学", "Acme Academy", "ACME Labs", "Ελληνικό Πανεπιστήμιο", "R&D 100% Lab"] },
    };

    [Theory, MemberData(nameof(Searches))]
    public async Task Q_finds_names_containing_it_ignoring_case_in_any_script(string q, string[] expected)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuersInOrderAsync(org, SearchNames);

        var list = await _client.ListIssuersAsync(org, "q=" + Uri.EscapeDataString(q));

        Assert.Equal(expected, list.Names());
        var result = list["result"]!;
        Assert.Equal(expected.Length, result["count"]!.GetValue<int>());
        Assert.Equal(1, result["num_pages"]!.GetValue<int>());
        Assert.Null(result["next"]);
        Assert.Null(result["previous"]);
    }

    [Fact]
    public async Task Q_matches_only_the_name()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new
        {
            name = "Plain", entityId = "findme-id", email = "findme@example.com", url = "https://findme.example.com",
            allowed_template_tags = new[] { "findme" }, signatories = new Dictionary<string, string> { ["findme"] = "findme" },
        });

        var list = await _client.ListIssuersAsync(org, "q=findme");

        Assert.Empty(list.Names());
        Assert.Equal(0, list["result"]!["count"]!.GetValue<int>());
        Assert.Equal(1, list["result"]!["num_pages"]!.GetValue<int>());
    }

    [Fact]
    public async Task Q_combines_with_paging_and_the_links_keep_it()
    {
        var org = await _client.CreatePlatformAsync();
        const string q = "r&d ünï #1+1";
        var names = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            names.Add($"R&D Ünï #1+1 Lab {i}");
            await _client.CreateIssuerAsync(org, new { name = names[^1] });
            await _client.CreateIssuerAsync(org, new { name = $"Unrelated {i}" });
        }

        var seen = new List<string>();
        var page = (await _client.ListIssuersAsync(org, $"q={Uri.EscapeDataString(q)}&limit=3"))["result"]!.AsObject();
        for (var p = 0; ; p++)
        {
            Assert.Equal(7, page["count"]!.GetValue<int>());
            Assert.Equal(3, page["num_pages"]!.GetValue<int>());
            Assert.Equal(p + 1, page["page_number"]!.GetValue<int>());
            AssertLink(page["previous"], org, q, 3, p == 0 ? null : (p - 1) * 3);
            AssertLink(page["next"], org, q, 3, p < 2 ? (p + 1) * 3 : null);
            seen.AddRange(page["data"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()));
            if (page["next"] is not { } next) break;
            page = (await _client.GetOkObjectAsync(next.GetValue<string>()))["result"]!.AsObject();
        }

        Assert.Equal(names, seen);
    }

    [Fact]
    public async Task Links_are_absolute_and_keep_the_path_the_client_used()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuersInOrderAsync(org, "A", "B", "C");
        var withoutSlash = TestRequests.Issuers(org).TrimEnd('/');

        var page = (await _client.GetOkObjectAsync(withoutSlash + "?limit=1&offset=1"))["result"]!;

        var next = new Uri(page["next"]!.GetValue<string>());
        Assert.True(next.IsAbsoluteUri);
        Assert.Equal(_client.BaseAddress!.GetLeftPart(UriPartial.Authority), next.GetLeftPart(UriPartial.Authority));
        Assert.Equal(withoutSlash, next.AbsolutePath);
        Assert.Equal(["C"], (await _client.GetOkObjectAsync(next.AbsoluteUri)).Names());
    }

    /// <summary>
    /// Asserts a next/previous link: null when <paramref name="offset"/> is null, otherwise an absolute
    /// URL of this org's issuer list carrying <paramref name="q"/>, the effective limit and the offset.
    /// </summary>
    private void AssertLink(JsonNode? link, string org, string? q, int limit, int? offset)
    {
        if (offset is null)
        {
            Assert.Null(link);
            return;
        }
        Assert.NotNull(link);
        var uri = new Uri(link.GetValue<string>(), UriKind.Absolute);
        Assert.Equal(_client.BaseAddress!.GetLeftPart(UriPartial.Authority), uri.GetLeftPart(UriPartial.Authority));
        Assert.Equal(TestRequests.Issuers(org), uri.AbsolutePath);
        var query = HttpUtility.ParseQueryString(uri.Query);
        Assert.Equal(limit.ToString(CultureInfo.InvariantCulture), query["limit"]);
        Assert.Equal(offset.Value.ToString(CultureInfo.InvariantCulture), query["offset"]);
        Assert.Equal(q, query["q"]);
    }
}
