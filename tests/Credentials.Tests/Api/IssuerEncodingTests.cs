using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Api;

/// <summary>
/// A4 and B4: issuer writes in application/json, application/x-www-form-urlencoded and
/// multipart/form-data (tags repeated, signatories a JSON string), and what is refused.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class IssuerEncodingTests(SqliteApiFixture fixture)
{
    private const string Name = "Ünïcödé Akademie 😀 東京";
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    public static TheoryData<string> Encodings => new() { "json", "form", "multipart" };

    public static TheoryData<string> FormEncodings => new() { "form", "multipart" };

    /// <summary>The same issuer write in <paramref name="encoding"/>; form values are sent as the contract says.</summary>
    private static HttpContent Encode(string encoding, params (string Name, string Value)[] fields) => encoding switch
    {
        "form" => TestRequests.Form(fields),
        "multipart" => TestRequests.Multipart(fields),
        _ => throw new ArgumentOutOfRangeException(nameof(encoding)),
    };

    /// <summary>Every field of an issuer, in <paramref name="encoding"/>.</summary>
    private static HttpContent FullIssuer(string encoding, string entityId = "full") => encoding == "json"
        ? TestRequests.JsonBody(TestRequests.ToJson(new
        {
            name = Name,
            email = "dean@example.com",
            url = "https://example.com/ünï",
            iconImage = "https://example.com/icon.png",
            allowed_template_tags = new[] { "diploma", "badge" },
            signatories = new Dictionary<string, string> { ["Dean"] = "Dr. Ünï", ["Rector"] = "Prof. 東京" },
            entityId,
        }))
        : Encode(encoding,
            ("name", Name),
            ("email", "dean@example.com"),
            ("url", "https://example.com/ünï"),
            ("iconImage", "https://example.com/icon.png"),
            ("allowed_template_tags", "diploma"),
            ("allowed_template_tags", "badge"),
            ("signatories", """{"Dean":"Dr. Ünï","Rector":"Prof. 東京"}"""),
            ("entityId", entityId));

    private static void AssertFullIssuer(string org, string entityId, JsonNode issuer)
    {
        var expected = new JsonObject
        {
            ["name"] = Name,
            ["org"] = org,
            ["entityId"] = entityId,
            ["signatories"] = new JsonObject { ["Dean"] = "Dr. Ünï", ["Rector"] = "Prof. 東京" },
            ["url"] = "https://example.com/ünï",
            ["iconImage"] = "https://example.com/icon.png",
            ["email"] = "dean@example.com",
            ["allowed_template_tags"] = new JsonArray("diploma", "badge"),
        };
        Assert.True(JsonNode.DeepEquals(expected, issuer), $"expected {expected.ToJsonString()}, got {issuer.ToJsonString()}");
    }

    [Theory, MemberData(nameof(Encodings))]
    public async Task Create_reads_every_field_from_each_encoding(string encoding)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(TestRequests.Issuers(org), FullIssuer(encoding));

        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        var body = JsonNode.Parse(json)!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"success":true,"description":"Created"}"""), body["status"]), json);
        AssertFullIssuer(org, "full", body["result"]!);
        AssertFullIssuer(org, "full", await _client.ReadIssuerAsync(org, "full"));
    }

    [Theory, MemberData(nameof(Encodings))]
    public async Task Replace_reads_every_field_from_each_encoding(string encoding)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Before", entityId = "full" });

        var response = await _client.PutAsync(TestRequests.Issuer(org, "full"), FullIssuer(encoding, entityId: "ignored"));

        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        AssertFullIssuer(org, "full", Assert.Single(JsonNode.Parse(json)!.AsArray())!);
        AssertFullIssuer(org, "full", await _client.ReadIssuerAsync(org, "full"));
    }

    [Theory, MemberData(nameof(FormEncodings))]
    public async Task Patch_in_a_form_encoding_changes_only_the_fields_sent(string encoding)
    {
        var org = await _client.CreatePlatformAsync();
        var before = await _client.CreateIssuerAsync(org, new
        {
            name = "Kept", entityId = "it", email = "old@example.com", allowed_template_tags = new[] { "kept" },
        });

        var response = await _client.PatchAsync(TestRequests.Issuer(org, "it"), Encode(encoding, ("email", "new@example.com")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        before["email"] = "new@example.com";
        Assert.Equal(before.ToJsonString(), (await _client.ReadIssuerAsync(org, "it")).ToJsonString());
    }

    [Theory, MemberData(nameof(FormEncodings))]
    public async Task A_form_without_optional_fields_stores_their_defaults(string encoding)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding, ("name", "Only a name"), ("entityId", "min")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var issuer = await _client.ReadIssuerAsync(org, "min");
        Assert.Equal(
            $$"""{"name":"Only a name","org":"{{org}}","entityId":"min","signatories":{},"url":null,"iconImage":null,"email":null,"allowed_template_tags":null}""",
            issuer.ToJsonString());
    }

    [Theory, MemberData(nameof(FormEncodings))]
    public async Task A_form_keeps_repeated_tags_in_the_order_sent(string encoding)
    {
        var org = await _client.CreatePlatformAsync();
        var tags = new[] { "zeta", "alpha", "mü", "alpha2" };

        var response = await _client.PostAsync(TestRequests.Issuers(org),
            Encode(encoding, [("name", "Tags"), ("entityId", "tags"), .. tags.Select(t => ("allowed_template_tags", t))]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(tags, (await _client.ReadIssuerAsync(org, "tags"))["allowed_template_tags"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    [Theory, MemberData(nameof(FormEncodings))]
    public async Task A_form_applies_the_same_limits_as_json(string encoding)
    {
        var org = await _client.CreatePlatformAsync();
        var hundred = Enumerable.Range(0, 100).Select(i => ("allowed_template_tags", $"t{i}")).ToArray();

        var ok = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding, [("name", "Hundred"), .. hundred]));
        var tooMany = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding, [("name", "Too many"), .. hundred, ("allowed_template_tags", "t100")]));
        var blankTag = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding, ("name", "Blank tag"), ("allowed_template_tags", "a"), ("allowed_template_tags", "")));
        var blankName = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding, ("name", "   ")));
        var noName = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding, ("email", "a@example.com")));
        var badEverything = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding,
            ("name", TestRequests.Repeat("😀", 256)), ("email", "nope"), ("url", "ftp://example.com"), ("iconImage", "/x"), ("entityId", "bad id")));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(["allowed_template_tags"], await tooMany.ErrorFieldsAsync());
        Assert.Equal(["allowed_template_tags"], await blankTag.ErrorFieldsAsync());
        Assert.Equal(["name"], await blankName.ErrorFieldsAsync());
        Assert.Equal(["name"], await noName.ErrorFieldsAsync());
        Assert.NotEmpty(await badEverything.ErrorFieldsAsync());
        Assert.Equal(1, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    /// <summary>
    /// A present entityId is checked in every encoding: an empty one is not "absent" (a form leaves
    /// it out by not sending the field). JSON null counts as absent, see IssuerValidationTests.
    /// </summary>
    [Theory, MemberData(nameof(Encodings))]
    public async Task An_empty_entity_id_is_refused_in_every_encoding_and_nothing_is_stored(string encoding)
    {
        var org = await _client.CreatePlatformAsync();
        var body = encoding == "json"
            ? TestRequests.JsonBody("""{"name":"Empty id","entityId":""}""")
            : Encode(encoding, ("name", "Empty id"), ("entityId", ""));

        var response = await _client.PostAsync(TestRequests.Issuers(org), body);

        Assert.Equal(["entityId"], await response.ErrorFieldsAsync());
        Assert.Equal(0, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    [Theory, MemberData(nameof(FormEncodings))]
    public async Task A_form_without_an_entity_id_field_gets_a_generated_one(string encoding)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding, ("name", "No id")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Matches("^[A-Za-z0-9_-]{22}$", (await response.JsonAsync())["result"]!["entityId"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(FormEncodings))]
    public async Task A_repeated_single_valued_form_field_keeps_its_last_value_as_django_does(string encoding)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding,
            ("name", "First"), ("name", "Last"), ("email", "first@example.com"), ("email", "last@example.com"),
            ("entityId", "first"), ("entityId", "last")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var issuer = await _client.ReadIssuerAsync(org, "last");
        Assert.Equal("Last", issuer["name"]!.GetValue<string>());
        Assert.Equal("last@example.com", issuer["email"]!.GetValue<string>());
    }

    public static TheoryData<string, string> BadSignatoriesText
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var encoding in new[] { "form", "multipart" })
            {
                foreach (var text in new[] { "not json", "{", """{"Dean":""", "[1,2]", """["Dean"]""", "\"Dean\"", "42", """{"Dean":1}""", """{"Dean":null}""", """{"":"x"}""" })
                {
                    data.Add(encoding, text);
                }
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(BadSignatoriesText))]
    public async Task Form_signatories_that_are_not_a_json_object_of_strings_are_refused(string encoding, string signatories)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding, ("name", "Signed"), ("signatories", signatories)));

        Assert.Equal(["signatories"], await response.ErrorFieldsAsync());
    }

    [Theory, MemberData(nameof(FormEncodings))]
    public async Task Form_signatories_null_or_empty_mean_none(string encoding)
    {
        var org = await _client.CreatePlatformAsync();

        var asNull = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding, ("name", "Null"), ("entityId", "n"), ("signatories", "null")));
        var empty = await _client.PostAsync(TestRequests.Issuers(org), Encode(encoding, ("name", "Empty"), ("entityId", "e"), ("signatories", "")));

        Assert.Equal(HttpStatusCode.OK, asNull.StatusCode);
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        Assert.Empty((await _client.ReadIssuerAsync(org, "n"))["signatories"]!.AsObject());
        Assert.Empty((await _client.ReadIssuerAsync(org, "e"))["signatories"]!.AsObject());
    }

    [Theory, MemberData(nameof(Encodings))]
    public async Task Unknown_fields_are_ignored(string encoding)
    {
        var org = await _client.CreatePlatformAsync();
        HttpContent content = encoding == "json"
            ? TestRequests.JsonBody("""{"name":"Known","entityId":"known","unknown":1,"nested":{"a":[1,{"b":null}]},"created":"2020-01-01","id":7}""")
            : Encode(encoding, ("name", "Known"), ("entityId", "known"), ("unknown", "1"), ("created", "2020-01-01"), ("id", "7"));

        var response = await _client.PostAsync(TestRequests.Issuers(org), content);

        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        Assert.Equal(
            ["allowed_template_tags", "email", "entityId", "iconImage", "name", "org", "signatories", "url"],
            JsonNode.Parse(json)!["result"]!.AsObject().Select(kv => kv.Key).Order(StringComparer.Ordinal));
        Assert.Equal("Known", (await _client.ReadIssuerAsync(org, "known"))["name"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Encodings))]
    public async Task An_org_in_the_body_is_ignored_for_the_path_org(string encoding)
    {
        var org = await _client.CreatePlatformAsync();
        var other = await _client.CreatePlatformAsync();
        HttpContent Content(string name) => encoding == "json"
            ? TestRequests.JsonBody(TestRequests.ToJson(new { name, entityId = "mine", org = other }))
            : Encode(encoding, ("name", name), ("entityId", "mine"), ("org", other));

        var created = await _client.PostAsync(TestRequests.Issuers(org), Content("Created"));
        var replaced = await _client.PutAsync(TestRequests.Issuer(org, "mine"), Content("Replaced"));
        var patched = await _client.PatchAsync(TestRequests.Issuer(org, "mine"), Content("Patched"));

        Assert.Equal(org, (await created.JsonAsync())["result"]!["org"]!.GetValue<string>());
        Assert.Equal(org, (await replaced.JsonAsync())[0]!["org"]!.GetValue<string>());
        Assert.Equal(org, (await patched.JsonAsync())[0]!["org"]!.GetValue<string>());
        Assert.Equal("Patched", (await _client.ReadIssuerAsync(org, "mine"))["name"]!.GetValue<string>());
        Assert.Equal(0, (await _client.ListIssuersAsync(other))["result"]!["count"]!.GetValue<int>());
    }

    public static TheoryData<string, string> UnsupportedTypes
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var method in new[] { "POST", "PUT", "PATCH" })
            {
                foreach (var type in new[] { "text/plain", "application/xml", "text/html", "application/octet-stream", "" })
                {
                    data.Add(method, type);
                }
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(UnsupportedTypes))]
    public async Task A_body_of_another_media_type_is_a_415_problem(string method, string contentType)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Untouched", entityId = "it" });
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"name":"Changed"}"""));
        if (contentType.Length > 0) content.Headers.ContentType = new MediaTypeHeaderValue(contentType);

        var response = await _client.SendAsync(new HttpMethod(method), method == "POST" ? TestRequests.Issuers(org) : TestRequests.Issuer(org, "it"), content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await response.ProblemAsync();
        Assert.Equal("Untouched", (await _client.ReadIssuerAsync(org, "it"))["name"]!.GetValue<string>());
        Assert.Equal(1, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    public static TheoryData<string, string> NotAJsonObject
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var method in new[] { "POST", "PUT", "PATCH" })
            {
                foreach (var body in new[] { "", "{", """{"name":""", """{"name":"x",}""", "not json", "{'name':'x'}", """[{"name":"x"}]""", "[]", "\"x\"", "42", "null", "true" })
                {
                    data.Add(method, body);
                }
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(NotAJsonObject))]
    public async Task A_json_body_that_is_malformed_or_not_an_object_is_a_400_problem(string method, string body)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Untouched", entityId = "it" });

        var response = await _client.SendAsync(new HttpMethod(method), method == "POST" ? TestRequests.Issuers(org) : TestRequests.Issuer(org, "it"), TestRequests.JsonBody(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.ProblemAsync();
        Assert.Equal("Untouched", (await _client.ReadIssuerAsync(org, "it"))["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("multipart/form-data", "name=x")]
    [InlineData("multipart/form-data; boundary=b", "not a multipart body")]
    [InlineData("multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nunterminated")]
    [InlineData("multipart/form-data; boundary=b", "--b\r\nno-colon-header\r\n\r\nx\r\n--b--\r\n")]
    public async Task A_form_body_that_cannot_be_read_is_a_400_problem(string contentType, string body)
    {
        var org = await _client.CreatePlatformAsync();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        var response = await _client.PostAsync(TestRequests.Issuers(org), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.ProblemAsync();
        Assert.Equal(0, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON")]
    public async Task Json_is_recognised_with_or_without_parameters_and_in_any_case(string contentType)
    {
        var org = await _client.CreatePlatformAsync();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"name":"Typed"}"""));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        var response = await _client.PostAsync(TestRequests.Issuers(org), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Raw_utf8_and_escaped_surrogate_pairs_in_json_are_read_as_the_same_text()
    {
        var org = await _client.CreatePlatformAsync();

        var raw = await _client.PostJsonAsync(TestRequests.Issuers(org), """{"name":"Straße 😀 Москва 東京","entityId":"raw"}""");
        var escaped = await _client.PostJsonAsync(TestRequests.Issuers(org), """{"name":"Stra\u00dfe \ud83d\ude00 \u041c\u043e\u0441\u043a\u0432\u0430 \u6771\u4eac","entityId":"escaped"}""");

        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        Assert.Equal(HttpStatusCode.OK, escaped.StatusCode);
        Assert.Equal("Straße 😀 Москва 東京", (await _client.ReadIssuerAsync(org, "raw"))["name"]!.GetValue<string>());
        Assert.Equal("Straße 😀 Москва 東京", (await _client.ReadIssuerAsync(org, "escaped"))["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"name":"Lone \ud800 surrogate"}""")]
    [InlineData("""{"name":"Ok","email":"\udc00@example.com"}""")]
    [InlineData("""{"name":"Ok","allowed_template_tags":["\ud83d"]}""")]
    [InlineData("""{"name":"Ok","signatories":{"\ud800":"v"}}""")]
    [InlineData("""{"name":"Ok","signatories":{"k":"\udfff"}}""")]
    [InlineData("""{"name":"Ok","entityId":"\ud800"}""")]
    [InlineData("""{"\ud800":"unknown field","name":"Ok"}""")]
    public async Task Json_text_that_is_not_valid_unicode_is_a_400_problem(string body)
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostJsonAsync(TestRequests.Issuers(org), body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.ProblemAsync();
        Assert.Equal(0, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    [Theory, MemberData(nameof(Encodings))]
    public async Task A_body_larger_than_the_limit_is_a_413_problem(string encoding)
    {
        var org = await _client.CreatePlatformAsync();
        var big = TestRequests.Repeat("x", 2 * 1024 * 1024);
        HttpContent content = encoding == "json"
            ? TestRequests.JsonBody(TestRequests.ToJson(new { name = "Big", filler = big }))
            : Encode(encoding, ("name", "Big"), ("filler", big));
        await content.LoadIntoBufferAsync(); // sends a Content-Length

        var response = await _client.PostAsync(TestRequests.Issuers(org), content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await response.ProblemAsync();
        Assert.Equal(0, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_issuer_created_as_json_reads_the_same_as_one_created_as_a_form()
    {
        var org = await _client.CreatePlatformAsync();

        foreach (var encoding in new[] { "json", "form", "multipart" })
        {
            var response = await _client.PostAsync(TestRequests.Issuers(org), FullIssuer(encoding, "from-" + encoding));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var fromJson = await _client.ReadIssuerAsync(org, "from-json");
        fromJson.Remove("entityId");
        foreach (var id in new[] { "from-form", "from-multipart" })
        {
            var other = await _client.ReadIssuerAsync(org, id);
            other.Remove("entityId");
            Assert.Equal(fromJson.ToJsonString(), other.ToJsonString());
        }
    }

    [Fact]
    public async Task Create_answers_200_not_201_with_the_created_envelope()
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsJsonAsync(TestRequests.Issuers(org), new { name = "Status", entityId = "status" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            $$$"""{"status":{"success":true,"description":"Created"},"result":{"name":"Status","org":"{{{org}}}","entityId":"status","signatories":{},"url":null,"iconImage":null,"email":null,"allowed_template_tags":null}}""",
            await response.Content.ReadAsStringAsync());
    }
}
