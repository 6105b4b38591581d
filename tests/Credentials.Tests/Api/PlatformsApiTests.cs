using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Api;

/// <summary>B2 (the super-admin's platform calls), B1's super-admin token, and the 404 for an unknown org.</summary>
[Collection(ApiCollection.Name)]
public sealed class PlatformsApiTests(SqliteApiFixture fixture)
{
    private readonly ApiFactory _factory = fixture.Factory;
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    [Fact]
    public async Task Create_answers_201_with_key_name_and_created_and_get_reads_the_same()
    {
        var org = TestRequests.NewOrg();
        var before = DateTimeOffset.UtcNow;

        var response = await _client.PostAsJsonAsync("/api/platforms/", new { key = org, name = "  Acme Platform  " });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = (await response.JsonAsync()).AsObject();
        Assert.Equal(["created", "key", "name"], body.Select(kv => kv.Key).Order(StringComparer.Ordinal));
        Assert.Equal(org, body["key"]!.GetValue<string>());
        Assert.Equal("Acme Platform", body["name"]!.GetValue<string>());
        var created = DateTimeOffset.Parse(body["created"]!.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        Assert.Equal(TimeSpan.Zero, created.Offset);
        Assert.InRange(created, before.AddSeconds(-5), DateTimeOffset.UtcNow.AddSeconds(5));

        var read = await _client.GetAsync($"/api/platforms/{org}/");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(body.ToJsonString(), (await read.JsonAsync()).ToJsonString());
    }

    [Fact]
    public async Task Create_works_without_the_trailing_slash()
    {
        var org = TestRequests.NewOrg();

        var response = await _client.PostAsJsonAsync("/api/platforms", new { key = org });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(org, (await _client.GetOkObjectAsync($"/api/platforms/{org}"))["key"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"key":"KEY"}""")]
    [InlineData("""{"key":"KEY","name":null}""")]
    [InlineData("""{"key":"KEY","name":""}""")]
    [InlineData("""{"key":"KEY","name":"   "}""")]
    public async Task The_name_defaults_to_the_key(string template)
    {
        var org = TestRequests.NewOrg();

        var response = await _client.PostJsonAsync("/api/platforms/", template.Replace("KEY", org, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(org, (await response.JsonAsync())["name"]!.GetValue<string>());
        Assert.Equal(org, (await _client.GetOkObjectAsync($"/api/platforms/{org}/"))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_taken_key_is_a_400_naming_key_and_the_first_platform_is_kept()
    {
        var org = TestRequests.NewOrg();
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync("/api/platforms/", new { key = org, name = "First" })).StatusCode);

        var again = await _client.PostAsJsonAsync("/api/platforms/", new { key = org, name = "Second" });

        Assert.Equal(["key"], await again.ErrorFieldsAsync());
        Assert.Equal("First", (await _client.GetOkObjectAsync($"/api/platforms/{org}/"))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Concurrent_creates_of_one_key_make_exactly_one_platform()
    {
        var org = TestRequests.NewOrg();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20)
            .Select(i => _client.PostAsJsonAsync("/api/platforms/", new { key = org, name = $"Racer {i}" })));

        var winner = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.BadRequest));
        Assert.Equal(
            (await winner.JsonAsync())["name"]!.GetValue<string>(),
            (await _client.GetOkObjectAsync($"/api/platforms/{org}/"))["name"]!.GetValue<string>());
    }

    /// <summary>A create body (JSON), and the field the 400 must name.</summary>
    public static TheoryData<string, string> RefusedCreates => new()
    {
        { """{"key":"Upper"}""", "key" },
        { """{"key":"-leading-dash"}""", "key" },
        { """{"key":"_leading-underscore"}""", "key" },
        { """{"key":"with.dot"}""", "key" },
        { """{"key":"with space"}""", "key" },
        { """{"key":"ümlaut"}""", "key" },
        { """{"key":"trailing-newline\n"}""", "key" },
        { $$"""{"key":"{{TestRequests.Repeat("k", 65)}}"}""", "key" },
        { """{"key":""}""", "key" },
        { """{"key":null}""", "key" },
        { """{"name":"No key"}""", "key" },
        { """{}""", "key" },
        { """{"key":42}""", "key" },
        { """{"key":["k"]}""", "key" },
        { """{"key":"\ud800"}""", "key" },
        { $$"""{"key":"{{TestRequests.NewOrg()}}","name":"\udc00"}""", "name" },
        { $$"""{"key":"{{TestRequests.NewOrg()}}","name":"{{TestRequests.Repeat("n", 256)}}"}""", "name" },
        { $$"""{"key":"{{TestRequests.NewOrg()}}","name":"Bell\u0007Platform"}""", "name" },
        { $$"""{"key":"{{TestRequests.NewOrg()}}","name":7}""", "name" },
    };

    [Theory, MemberData(nameof(RefusedCreates))]
    public async Task A_malformed_create_is_a_400_naming_the_field(string body, string field)
    {
        var response = await _client.PostJsonAsync("/api/platforms/", body);

        Assert.Equal([field], await response.ErrorFieldsAsync());
        if (field == "name")
        {
            var key = JsonNode.Parse(body)!["key"]!.GetValue<string>();
            Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/platforms/{key}/")).StatusCode);
        }
    }

    [Fact]
    public async Task A_name_of_255_characters_is_kept_whole()
    {
        var org = TestRequests.NewOrg();
        var name = TestRequests.Repeat("😀", 255);

        var response = await _client.PostAsJsonAsync("/api/platforms/", new { key = org, name });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(name, (await _client.GetOkObjectAsync($"/api/platforms/{org}/"))["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("\"key\"")]
    [InlineData("""{"\udc00":"x","key":"valid-key"}""")]
    public async Task A_create_body_that_is_not_a_json_object_is_a_400_problem(string body)
    {
        var response = await _client.PostJsonAsync("/api/platforms/", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.ProblemAsync();
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task A_create_body_that_is_not_json_is_a_415_problem(string contentType)
    {
        var org = TestRequests.NewOrg();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"key":"{{org}}"}"""));
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);

        var response = await _client.PostAsync("/api/platforms/", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await response.ProblemAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/platforms/{org}/")).StatusCode);
    }

    [Fact]
    public async Task Reading_an_unknown_platform_is_a_404_problem()
    {
        var response = await _client.GetAsync($"/api/platforms/{TestRequests.NewOrg()}/");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await response.ProblemAsync();
    }

    [Fact]
    public async Task Reading_a_platform_with_a_malformed_key_is_a_400_naming_org()
    {
        Assert.Equal(["org"], await (await _client.GetAsync("/api/platforms/Upper/")).ErrorFieldsAsync());
    }

    public static TheoryData<string, string> IssuerCalls => new()
    {
        { "GET", "" },
        { "POST", "" },
        { "GET", "some-id/" },
        { "PUT", "some-id/" },
        { "PATCH", "some-id/" },
        { "DELETE", "some-id/" },
    };

    [Theory, MemberData(nameof(IssuerCalls))]
    public async Task Any_issuer_call_under_an_unknown_org_is_a_404_problem(string method, string suffix)
    {
        var org = TestRequests.NewOrg();
        var content = method is "POST" or "PUT" or "PATCH" ? TestRequests.JsonBody("""{"name":"Nobody","entityId":"some-id"}""") : null;

        var response = await _client.SendAsync(new HttpMethod(method), TestRequests.Issuers(org) + suffix, content);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await response.ProblemAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/platforms/{org}/")).StatusCode);
    }

    [Fact]
    public async Task Creating_a_platform_makes_its_org_usable_and_is_not_undone_by_earlier_404s()
    {
        var org = TestRequests.NewOrg();
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(TestRequests.Issuers(org))).StatusCode);

        await _client.CreatePlatformAsync(org);

        await _client.CreateIssuerAsync(org, new { name = "First issuer" });
        Assert.Equal(1, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    public static TheoryData<string, string> PlatformCalls => new()
    {
        { "POST", "/api/platforms/" },
        { "GET", "/api/platforms/" },
        { "GET", "/api/platforms/{org}/" },
        { "GET", "/api/credentials/orgs/{org}/users/admin/issuers/" },
        { "POST", "/api/credentials/orgs/{org}/users/admin/issuers/" },
        { "GET", "/api/credentials/orgs/{org}/users/admin/issuers/it/" },
        { "PUT", "/api/credentials/orgs/{org}/users/admin/issuers/it/" },
        { "PATCH", "/api/credentials/orgs/{org}/users/admin/issuers/it/" },
        { "DELETE", "/api/credentials/orgs/{org}/users/admin/issuers/it/" },
    };

    public static TheoryData<string, string, string?, string?> BadCredentials
    {
        get
        {
            var data = new TheoryData<string, string, string?, string?>();
            foreach (var call in PlatformCalls)
            {
                var (method, path) = ((string)call[0], (string)call[1]);
                data.Add(method, path, null, null);
                data.Add(method, path, "Api-Token", "wrong-token");
                data.Add(method, path, "Api-Token", ApiFactory.AdminToken + "x");
                data.Add(method, path, "Api-Key", "wrong-token");
                data.Add(method, path, "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + ApiFactory.AdminToken)));
            }
            return data;
        }
    }

    [Theory, MemberData(nameof(BadCredentials))]
    public async Task Missing_or_wrong_credentials_are_a_401_problem_with_a_challenge(string method, string path, string? scheme, string? credential)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Guarded", entityId = "it" });
        using var client = ClientWith(scheme, credential);
        var content = method is "POST" or "PUT" or "PATCH" ? TestRequests.JsonBody($$"""{"key":"{{TestRequests.NewOrg()}}","name":"Intruder"}""") : null;

        var response = await client.SendAsync(new HttpMethod(method), path.Replace("{org}", org, StringComparison.Ordinal), content);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
        await response.ProblemAsync();
        Assert.Equal("Guarded", (await _client.ReadIssuerAsync(org, "it"))["name"]!.GetValue<string>());
        Assert.Equal(1, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    private HttpClient ClientWith(string? scheme, string? credential)
    {
        var client = _factory.CreateClient();
        if (scheme is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, credential);
        return client;
    }

    [Fact]
    public async Task The_super_admin_token_works_with_the_api_key_prefix_too()
    {
        using var client = ClientWith("Api-Key", ApiFactory.AdminToken);
        var org = TestRequests.NewOrg();

        var created = await client.PostAsJsonAsync("/api/platforms/", new { key = org });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/platforms/{org}/")).StatusCode);
        await client.CreateIssuerAsync(org, new { name = "Via Api-Key" });
    }
}
