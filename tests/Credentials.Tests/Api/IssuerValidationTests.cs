using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Api;

/// <summary>
/// The contract's validation table (A4, B4): both sides of every boundary. Lengths count code
/// points, so the astral "😀" (two UTF-16 units) proves which one is counted.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class IssuerValidationTests(SqliteApiFixture fixture)
{
    private const string Smile = "😀";
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    private static string S(string value) => TestRequests.JsonString(value);

    /// <summary>An https URL of exactly <paramref name="codePoints"/> code points.</summary>
    private static string UrlOf(int codePoints, string unit = "a") => "https://example.com/" + TestRequests.Repeat(unit, codePoints - 20);

    /// <summary>An address of exactly <paramref name="length"/> characters.</summary>
    private static string EmailOf(int length) => TestRequests.Repeat("a", length - "@example.com".Length) + "@example.com";

    private static string TagsOf(int count, string tag = "tag") => TestRequests.ToJson(Enumerable.Repeat(tag, count).ToArray());

    private static string SignatoriesOf(int count) =>
        TestRequests.ToJson(Enumerable.Range(0, count).ToDictionary(i => $"Signer {i}", i => $"Title {i}"));

    private static string SignatoryOf(string key, string value) => TestRequests.ToJson(new Dictionary<string, string> { [key] = value });

    /// <summary>A create body: a valid name plus <paramref name="field"/> (or only the name when that is the field).</summary>
    private static string Body(string field, string valueJson) =>
        field == "name" ? $$"""{"name":{{valueJson}}}""" : $$"""{"name":"Valid Issuer","{{field}}":{{valueJson}}}""";

    /// <summary>field, value sent (JSON), value stored and answered (JSON).</summary>
    public static TheoryData<string, string, string> Accepted
    {
        get
        {
            var data = new TheoryData<string, string, string>
            {
                { "name", S("A"), S("A") },
                { "name", S("  Padded Academy \t\n"), S("Padded Academy") },
                { "name", S(TestRequests.Repeat("x", 255)), S(TestRequests.Repeat("x", 255)) },
                { "name", S(TestRequests.Repeat(Smile, 255)), S(TestRequests.Repeat(Smile, 255)) },
                { "name", S("   " + TestRequests.Repeat(Smile, 255) + "   "), S(TestRequests.Repeat(Smile, 255)) },
                { "name", S("Ünïcödé Akademie — 東京大学 Straße"), S("Ünïcödé Akademie — 東京大学 Straße") },

                { "email", S("a@example.com"), S("a@example.com") },
                { "email", S("first.last+tag@sub.example.org"), S("first.last+tag@sub.example.org") },
                { "email", S(EmailOf(254)), S(EmailOf(254)) },
                { "email", "null", "null" },

                { "allowed_template_tags", "null", "null" },
                { "allowed_template_tags", "[]", "[]" },
                { "allowed_template_tags", """["a","b"]""", """["a","b"]""" },
                { "allowed_template_tags", TagsOf(100), TagsOf(100) },
                { "allowed_template_tags", TagsOf(1, "x"), TagsOf(1, "x") },
                { "allowed_template_tags", TagsOf(1, TestRequests.Repeat("t", 100)), TagsOf(1, TestRequests.Repeat("t", 100)) },
                { "allowed_template_tags", TagsOf(1, TestRequests.Repeat(Smile, 100)), TagsOf(1, TestRequests.Repeat(Smile, 100)) },

                { "signatories", "null", "{}" },
                { "signatories", "{}", "{}" },
                { "signatories", SignatoriesOf(1), SignatoriesOf(1) },
                { "signatories", SignatoriesOf(50), SignatoriesOf(50) },
                { "signatories", SignatoryOf("k", ""), SignatoryOf("k", "") },
                { "signatories", SignatoryOf(TestRequests.Repeat("k", 100), "v"), SignatoryOf(TestRequests.Repeat("k", 100), "v") },
                { "signatories", SignatoryOf(TestRequests.Repeat(Smile, 100), "v"), SignatoryOf(TestRequests.Repeat(Smile, 100), "v") },
                { "signatories", SignatoryOf("k", TestRequests.Repeat("v", 2048)), SignatoryOf("k", TestRequests.Repeat("v", 2048)) },
                { "signatories", SignatoryOf("k", TestRequests.Repeat(Smile, 2048)), SignatoryOf("k", TestRequests.Repeat(Smile, 2048)) },

                { "entityId", S("a"), S("a") },
                { "entityId", S("Az09_-"), S("Az09_-") },
                { "entityId", S(TestRequests.Repeat("e", 64)), S(TestRequests.Repeat("e", 64)) },
            };
            foreach (var urlField in new[] { "url", "iconImage" })
            {
                data.Add(urlField, S("http://example.com"), S("http://example.com"));
                data.Add(urlField, S("https://example.com/logo.png?size=2#top"), S("https://example.com/logo.png?size=2#top"));
                data.Add(urlField, S("HTTPS://Example.COM/x"), S("HTTPS://Example.COM/x"));
                data.Add(urlField, S("http://localhost:8080/a"), S("http://localhost:8080/a"));
                data.Add(urlField, S(UrlOf(2048)), S(UrlOf(2048)));
                data.Add(urlField, S(UrlOf(2048, Smile)), S(UrlOf(2048, Smile)));
                data.Add(urlField, "null", "null");
            }
            return data;
        }
    }

    /// <summary>field, value sent (JSON).</summary>
    public static TheoryData<string, string> Refused
    {
        get
        {
            var data = new TheoryData<string, string>
            {
                { "name", "5" },
                { "name", "12.5" },
                { "name", "true" },
                { "name", "null" },
                { "name", """["Acme"]""" },
                { "name", """{"text":"Acme"}""" },
                { "name", S("") },
                { "name", S("   ") },
                { "name", S(" \t\r\n ") },
                { "name", S(TestRequests.Repeat("x", 256)) },
                { "name", S(TestRequests.Repeat(Smile, 256)) },
                { "name", S("  " + TestRequests.Repeat(Smile, 256) + "  ") },
                { "name", S("Bell\u0007Academy") },
                { "name", S("Next\u0085Line") },
                { "name", S("Nul\u0000Academy") },
                { "name", S("Tab\tInside") },
                { "name", S("Line\nBreak") },
                { "name", S("Delete\u007FChar") },

                { "email", S("not-an-email") },
                { "email", S("a@") },
                { "email", S("@example.com") },
                { "email", S("a b@example.com") },
                { "email", S("a@@example.com") },
                { "email", S("a@example") },
                { "email", S("a\n@example.com") },
                { "email", S("a@exa mple.com") },
                { "email", S(EmailOf(255)) },
                { "email", "42" },
                { "email", """["a@example.com"]""" },

                { "allowed_template_tags", TagsOf(101) },
                { "allowed_template_tags", TagsOf(1, "") },
                { "allowed_template_tags", """["ok",""]""" },
                { "allowed_template_tags", TagsOf(1, TestRequests.Repeat("t", 101)) },
                { "allowed_template_tags", TagsOf(1, TestRequests.Repeat(Smile, 101)) },
                { "allowed_template_tags", """["ok",1]""" },
                { "allowed_template_tags", """["ok",null]""" },
                { "allowed_template_tags", """[["nested"]]""" },
                { "allowed_template_tags", S("a,b") },
                { "allowed_template_tags", """{"a":"b"}""" },
                { "allowed_template_tags", "7" },

                { "signatories", SignatoriesOf(51) },
                { "signatories", SignatoryOf("", "v") },
                { "signatories", SignatoryOf(TestRequests.Repeat("k", 101), "v") },
                { "signatories", SignatoryOf(TestRequests.Repeat(Smile, 101), "v") },
                { "signatories", SignatoryOf("k", TestRequests.Repeat("v", 2049)) },
                { "signatories", SignatoryOf("k", TestRequests.Repeat(Smile, 2049)) },
                { "signatories", """{"k":1}""" },
                { "signatories", """{"k":null}""" },
                { "signatories", """{"k":{"nested":"v"}}""" },
                { "signatories", """[{"k":"v"}]""" },
                { "signatories", """["k"]""" },
                { "signatories", S("k=v") },
                { "signatories", "3" },

                { "entityId", S("") },
                { "entityId", S(TestRequests.Repeat("e", 65)) },
                { "entityId", S("with space") },
                { "entityId", S("with.dot") },
                { "entityId", S("with/slash") },
                { "entityId", S("with+plus") },
                { "entityId", S("ümlaut") },
                { "entityId", S("trailing-newline\n") },
                { "entityId", S(Smile) },
                { "entityId", "42" },
                { "entityId", """["id"]""" },
            };
            foreach (var urlField in new[] { "url", "iconImage" })
            {
                data.Add(urlField, S("ftp://example.com/logo.png"));
                data.Add(urlField, S("file:///etc/passwd"));
                data.Add(urlField, S("javascript:alert(1)"));
                data.Add(urlField, S("mailto:a@example.com"));
                data.Add(urlField, S("/relative/logo.png"));
                data.Add(urlField, S("logo.png"));
                data.Add(urlField, S("example.com/logo.png"));
                data.Add(urlField, S("//example.com/logo.png"));
                data.Add(urlField, S("http://"));
                data.Add(urlField, S("https:///logo.png"));
                data.Add(urlField, S("http:example.com"));
                data.Add(urlField, S("https://exa mple.com/"));
                data.Add(urlField, S(UrlOf(2049)));
                data.Add(urlField, S(UrlOf(2049, Smile)));
                data.Add(urlField, "1");
                data.Add(urlField, """{"href":"https://example.com"}""");
            }
            return data;
        }
    }

    /// <summary>The refused rows that PUT and PATCH also refuse: they ignore entityId in the body.</summary>
    public static TheoryData<string, string> RefusedOnUpdate
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var row in Refused.Where(r => (string)r[0] != "entityId")) data.Add((string)row[0], (string)row[1]);
            return data;
        }
    }

    public static TheoryData<string, string, string> AcceptedOnUpdate
    {
        get
        {
            var data = new TheoryData<string, string, string>();
            foreach (var row in Accepted.Where(r => (string)r[0] != "entityId")) data.Add((string)row[0], (string)row[1], (string)row[2]);
            return data;
        }
    }

    [Theory, MemberData(nameof(Accepted))]
    public async Task Create_accepts_a_value_inside_the_rules_and_stores_it(string field, string value, string stored)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostJsonAsync(TestRequests.Issuers(org), Body(field, value));

        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        var created = JsonNode.Parse(json)!["result"]!.AsObject();
        AssertJsonEqual(stored, created[field]);
        AssertJsonEqual(stored, (await _client.ReadIssuerAsync(org, created["entityId"]!.GetValue<string>()))[field]);
    }

    [Theory, MemberData(nameof(Refused))]
    public async Task Create_refuses_a_value_outside_the_rules_naming_the_field_and_stores_nothing(string field, string value)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostJsonAsync(TestRequests.Issuers(org), Body(field, value));

        Assert.Equal([field], await response.ErrorFieldsAsync());
        Assert.Equal(0, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    [Theory, MemberData(nameof(AcceptedOnUpdate))]
    public async Task Replace_accepts_what_create_accepts(string field, string value, string stored)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Before", entityId = "it" });

        var response = await _client.PutJsonAsync(TestRequests.Issuer(org, "it"), Body(field, value));

        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        AssertJsonEqual(stored, Assert.Single(JsonNode.Parse(json)!.AsArray())![field]);
        AssertJsonEqual(stored, (await _client.ReadIssuerAsync(org, "it"))[field]);
    }

    [Theory, MemberData(nameof(RefusedOnUpdate))]
    public async Task Replace_and_patch_refuse_what_create_refuses_and_leave_the_issuer_unchanged(string field, string value)
    {
        var org = await _client.CreatePlatformAsync();
        var before = await _client.CreateIssuerAsync(org, new
        {
            name = "Before", entityId = "it", email = "before@example.com", url = "https://before.example.com",
            iconImage = "https://before.example.com/i.png", allowed_template_tags = new[] { "t" },
            signatories = new Dictionary<string, string> { ["Dean"] = "Dr. Before" },
        });

        Assert.Equal([field], await (await _client.PutJsonAsync(TestRequests.Issuer(org, "it"), Body(field, value))).ErrorFieldsAsync());
        Assert.Equal([field], await (await _client.PatchJsonAsync(TestRequests.Issuer(org, "it"), $$"""{"{{field}}":{{value}}}""")).ErrorFieldsAsync());

        Assert.Equal(before.ToJsonString(), (await _client.ReadIssuerAsync(org, "it")).ToJsonString());
    }

    [Fact]
    public async Task Name_is_required()
    {
        var org = await _client.CreatePlatformAsync();

        Assert.Equal(["name"], await (await _client.PostJsonAsync(TestRequests.Issuers(org), "{}")).ErrorFieldsAsync());
        Assert.Equal(["name"], await (await _client.PostJsonAsync(TestRequests.Issuers(org), """{"email":"a@example.com"}""")).ErrorFieldsAsync());
    }

    [Fact]
    public async Task Every_invalid_field_is_reported_in_one_answer_with_messages()
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostJsonAsync(TestRequests.Issuers(org), """
            {"name":"", "email":"nope", "url":"ftp://example.com", "iconImage":"/relative",
             "allowed_template_tags":[""], "signatories":{"":"x"}}
            """);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        var errors = problem["errors"]!.AsObject();
        Assert.Equal(
            ["allowed_template_tags", "email", "iconImage", "name", "signatories", "url"],
            errors.Select(kv => kv.Key).Order(StringComparer.Ordinal));
        foreach (var (_, messages) in errors)
        {
            Assert.NotEmpty(messages!.AsArray());
            Assert.All(messages.AsArray(), m => Assert.False(string.IsNullOrWhiteSpace(m!.GetValue<string>())));
        }
    }

    [Fact]
    public async Task An_empty_optional_string_clears_the_field_to_null()
    {
        var org = await _client.CreatePlatformAsync();

        var created = await _client.CreateIssuerAsync(org, new { name = "Blank optionals", email = "", url = " ", iconImage = "" });

        Assert.Null(created["email"]);
        Assert.Null(created["url"]);
        Assert.Null(created["iconImage"]);
    }

    [Fact]
    public async Task An_internationalised_email_domain_is_accepted()
    {
        var org = await _client.CreatePlatformAsync();

        var created = await _client.CreateIssuerAsync(org, new { name = "IDN", email = "info@bücher.example" });

        Assert.Equal("info@bücher.example", created["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task Generated_entity_ids_are_22_url_safe_base64_characters_of_128_random_bits_and_unique()
    {
        var org = await _client.CreatePlatformAsync();

        var created = await _client.CreateIssuersAsync(org, 300, i => $"Generated {i}");

        var ids = created.Select(i => i["entityId"]!.GetValue<string>()).ToArray();
        Assert.All(ids, id =>
        {
            Assert.Matches("^[A-Za-z0-9_-]{22}$", id);
            var bytes = Convert.FromBase64String(id.Replace('-', '+').Replace('_', '/') + "==");
            Assert.Equal(16, bytes.Length);
        });
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task A_null_entity_id_is_generated_like_an_absent_one()
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostJsonAsync(TestRequests.Issuers(org), """{"name":"Null id","entityId":null}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches("^[A-Za-z0-9_-]{22}$", (await response.JsonAsync())["result"]!["entityId"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_taken_entity_id_is_refused_and_the_first_issuer_is_kept()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "First", entityId = "taken" });

        var response = await _client.PostAsJsonAsync(TestRequests.Issuers(org), new { name = "Second", entityId = "taken" });

        Assert.Equal(["entityId"], await response.ErrorFieldsAsync());
        Assert.Equal("First", (await _client.ReadIssuerAsync(org, "taken"))["name"]!.GetValue<string>());
        Assert.Equal(1, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Concurrent_creates_with_the_same_entity_id_create_exactly_one_issuer()
    {
        var org = await _client.CreatePlatformAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20)
            .Select(i => _client.PostAsJsonAsync(TestRequests.Issuers(org), new { name = $"Racer {i}", entityId = "race" })));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        Assert.Equal(1, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Entity_ids_are_unique_per_org_and_case_sensitive()
    {
        var org = await _client.CreatePlatformAsync();
        var other = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Lower", entityId = "shared" });

        await _client.CreateIssuerAsync(other, new { name = "Other org", entityId = "shared" });
        await _client.CreateIssuerAsync(org, new { name = "Upper", entityId = "SHARED" });

        Assert.Equal("Lower", (await _client.ReadIssuerAsync(org, "shared"))["name"]!.GetValue<string>());
        Assert.Equal("Upper", (await _client.ReadIssuerAsync(org, "SHARED"))["name"]!.GetValue<string>());
        Assert.Equal("Other org", (await _client.ReadIssuerAsync(other, "shared"))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_deleted_issuers_client_chosen_entity_id_may_be_chosen_again()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Old", entityId = "reused", email = "old@example.com" });
        Assert.Equal(HttpStatusCode.OK, (await _client.DeleteAsync(TestRequests.Issuer(org, "reused"))).StatusCode);

        var again = await _client.CreateIssuerAsync(org, new { name = "New", entityId = "reused" });

        Assert.Equal("reused", again["entityId"]!.GetValue<string>());
        var read = await _client.ReadIssuerAsync(org, "reused");
        Assert.Equal("New", read["name"]!.GetValue<string>());
        Assert.Null(read["email"]);
    }

    public static TheoryData<string> MalformedOrgs => new()
    {
        "Upper", "UPPER", "-leading-dash", "_leading-underscore", "with.dot", "with%20space", "%C3%BCmlaut", "with%0A",
        TestRequests.Repeat("o", 65),
    };

    [Theory, MemberData(nameof(MalformedOrgs))]
    public async Task A_malformed_org_in_the_path_is_a_400_naming_org(string org)
    {
        Assert.Equal(["org"], await (await _client.GetAsync(TestRequests.Issuers(org))).ErrorFieldsAsync());
        Assert.Equal(["org"], await (await _client.PostAsJsonAsync(TestRequests.Issuers(org), new { name = "x" })).ErrorFieldsAsync());
        Assert.Equal(["org"], await (await _client.GetAsync(TestRequests.Issuers(org) + "some-id/")).ErrorFieldsAsync());
        Assert.Equal(["org"], await (await _client.PutJsonAsync(TestRequests.Issuers(org) + "some-id/", """{"name":"x"}""")).ErrorFieldsAsync());
        Assert.Equal(["org"], await (await _client.PatchJsonAsync(TestRequests.Issuers(org) + "some-id/", """{"name":"x"}""")).ErrorFieldsAsync());
        Assert.Equal(["org"], await (await _client.DeleteAsync(TestRequests.Issuers(org) + "some-id/")).ErrorFieldsAsync());
    }

    [Fact]
    public async Task An_org_key_of_64_characters_with_digits_dashes_and_underscores_is_served()
    {
        var org = await _client.CreatePlatformAsync(("0-_" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"))[..64]);

        await _client.CreateIssuerAsync(org, new { name = "Long org" });

        Assert.Equal(1, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    public static TheoryData<string> WellFormedUserIds => new()
    {
        "42", "jane", "Jane.Doe", "jane.doe@example.com", "a+b_c-d", TestRequests.Repeat("u", 150),
    };

    [Theory, MemberData(nameof(WellFormedUserIds))]
    public async Task A_user_id_that_follows_djangos_username_rule_is_served(string userId)
    {
        var org = await _client.CreatePlatformAsync();

        var created = await _client.PostAsJsonAsync(TestRequests.Issuers(org, userId), new { name = "By user", entityId = "by-user" });
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(TestRequests.Issuers(org, userId))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(TestRequests.Issuers(org, userId) + "by-user/")).StatusCode);
    }

    public static TheoryData<string> MalformedUserIds => new()
    {
        "with%20space", "bang!", "comma,separated", "colon:id", "%C3%BCmlaut", "with%0A", TestRequests.Repeat("u", 151),
    };

    [Theory, MemberData(nameof(MalformedUserIds))]
    public async Task A_malformed_user_id_in_the_path_is_a_400_naming_user_id(string userId)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Exists", entityId = "exists" });

        Assert.Equal(["user_id"], await (await _client.GetAsync(TestRequests.Issuers(org, userId))).ErrorFieldsAsync());
        Assert.Equal(["user_id"], await (await _client.PostAsJsonAsync(TestRequests.Issuers(org, userId), new { name = "x" })).ErrorFieldsAsync());
        Assert.Equal(["user_id"], await (await _client.GetAsync(TestRequests.Issuers(org, userId) + "exists/")).ErrorFieldsAsync());
        Assert.Equal(["user_id"], await (await _client.PatchJsonAsync(TestRequests.Issuers(org, userId) + "exists/", """{"name":"x"}""")).ErrorFieldsAsync());
        Assert.Equal(["user_id"], await (await _client.DeleteAsync(TestRequests.Issuers(org, userId) + "exists/")).ErrorFieldsAsync());
        Assert.Equal(1, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    private static void AssertJsonEqual(string expected, JsonNode? actual)
    {
        var expectedNode = JsonNode.Parse(expected);
        Assert.True(JsonNode.DeepEquals(expectedNode, actual),
            $"expected {Shorten(expectedNode?.ToJsonString() ?? "null")}, got {Shorten(actual?.ToJsonString() ?? "null")}");
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
