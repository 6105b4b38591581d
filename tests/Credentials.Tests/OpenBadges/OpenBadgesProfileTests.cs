using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Credentials.Grains;
using Credentials.Tests.Auth;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.OpenBadges;

/// <summary>
/// C1 on both backends: every issuer is published, without credentials, as an Open Badges 3.0
/// Profile and an Open Badges 2.0 Issuer; unknown orgs and issuers are 404 problems that activate
/// no grain; ETag, 304 and Cache-Control let verifiers cache the documents, and a change of the
/// issuer changes both ETag and body.
/// </summary>
public abstract class OpenBadgesProfileTests(ProbedService service)
{
    private readonly HttpClient _admin = service.Admin();
    private readonly HttpClient _anonymous = service.Client();

    private static readonly object Full = new
    {
        name = "Demo Academy",
        entityId = "academy",
        email = "badges@example.org",
        url = "https://example.org",
        iconImage = "https://example.org/icon.png",
        allowed_template_tags = new[] { "course" },
        signatories = new Dictionary<string, string> { ["Dean"] = "Ada" },
    };

    public static string V3(string org, string entityId) => $"/ob/v3/orgs/{org}/issuers/{entityId}";

    public static string V2(string org, string entityId) => $"/ob/v2/orgs/{org}/issuers/{entityId}";

    private async Task<string> OrgWithIssuerAsync(object issuer)
    {
        var org = await _admin.CreatePlatformAsync();
        await _admin.CreateIssuerAsync(org, issuer);
        return org;
    }

    private async Task<(JsonObject Document, HttpResponseMessage Response)> GetDocumentAsync(string path, HttpClient? client = null)
    {
        var response = await (client ?? _anonymous).GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/ld+json", response.Content.Headers.ContentType?.MediaType);
        return (JsonNode.Parse(body)!.AsObject(), response);
    }

    private static void AssertCachedFiveMinutes(HttpResponseMessage response)
    {
        var cache = response.Headers.CacheControl;
        Assert.True(cache is { Public: true, MaxAge.TotalSeconds: 300, Private: false, NoStore: false }, $"Cache-Control: {cache}");
    }

    private string Absolute(string path) => new Uri(_anonymous.BaseAddress!, path).AbsoluteUri;

    [Fact]
    public async Task The_v3_profile_is_the_issuer_in_the_contracts_shape_and_order()
    {
        var org = await OrgWithIssuerAsync(Full);

        var (document, response) = await GetDocumentAsync(V3(org, "academy"));

        OpenBadgesSpec.AssertProfileV3(document);
        var expected = $$$"""
            {"@context":["https://www.w3.org/ns/credentials/v2","https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
            "id":"{{{Absolute(V3(org, "academy"))}}}","type":["Profile"],"name":"Demo Academy","url":"https://example.org",
            "email":"badges@example.org","image":{"id":"https://example.org/icon.png","type":"Image"}}
            """.ReplaceLineEndings("");
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_v2_issuer_is_the_issuer_in_the_contracts_shape_and_order()
    {
        var org = await OrgWithIssuerAsync(Full);

        var (document, response) = await GetDocumentAsync(V2(org, "academy"));

        OpenBadgesSpec.AssertIssuerV2(document);
        var expected = $$"""
            {"@context":"https://w3id.org/openbadges/v2","type":"Issuer","id":"{{Absolute(V2(org, "academy"))}}",
            "name":"Demo Academy","url":"https://example.org","email":"badges@example.org","image":"https://example.org/icon.png"}
            """.ReplaceLineEndings("");
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Url_email_and_image_are_left_out_when_the_issuer_has_none()
    {
        var org = await OrgWithIssuerAsync(new { name = "Sparse", entityId = "sparse" });

        var (v3, _) = await GetDocumentAsync(V3(org, "sparse"));
        var (v2, _) = await GetDocumentAsync(V2(org, "sparse"));

        OpenBadgesSpec.AssertProfileV3(v3);
        OpenBadgesSpec.AssertIssuerV2(v2);
        Assert.Equal(["@context", "id", "type", "name"], v3.Select(p => p.Key));
        Assert.Equal(["@context", "type", "id", "name"], v2.Select(p => p.Key));
    }

    [Fact]
    public async Task A_name_outside_ascii_round_trips()
    {
        var org = await OrgWithIssuerAsync(new { name = "École \"Ünï\" 😀 <b>", entityId = "ecole" });

        var (v3, _) = await GetDocumentAsync(V3(org, "ecole"));

        Assert.Equal("École \"Ünï\" 😀 <b>", v3["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("v3")]
    [InlineData("v2")]
    public async Task The_trailing_slash_form_answers_the_same_document_whose_id_has_no_slash(string version)
    {
        var org = await OrgWithIssuerAsync(Full);
        var path = $"/ob/{version}/orgs/{org}/issuers/academy";

        var (plain, plainResponse) = await GetDocumentAsync(path);
        var (slashed, slashedResponse) = await GetDocumentAsync(path + "/");

        Assert.Equal(Absolute(path), slashed["id"]!.GetValue<string>());
        Assert.Equal(plain.ToJsonString(), slashed.ToJsonString());
        Assert.Equal(plainResponse.Headers.ETag, slashedResponse.Headers.ETag);
    }

    public static TheoryData<string, string> Missing => new()
    {
        { "unknown org", $"/ob/v3/orgs/{TestRequests.NewOrg()}/issuers/academy" },
        { "unknown org (v2)", $"/ob/v2/orgs/{TestRequests.NewOrg()}/issuers/academy" },
        { "org key with upper case", "/ob/v3/orgs/Not-An-Org/issuers/academy" },
        { "org key with a dot", "/ob/v2/orgs/not.an.org/issuers/academy" },
        { "org key of 65 characters", $"/ob/v3/orgs/{new string('a', 65)}/issuers/academy" },
    };

    [Theory]
    [MemberData(nameof(Missing))]
    public async Task An_org_that_does_not_exist_is_a_404_problem_and_activates_no_org_grain(string why, string path)
    {
        await _admin.CreatePlatformAsync(); // the directory is not empty
        var org = path.Split('/')[4];

        var response = await _anonymous.GetAsync(path);

        Assert.True(response.StatusCode == HttpStatusCode.NotFound, why);
        await response.ProblemAsync();
        Assert.Equal(0, service.Calls.To<OrgGrain>(org));
        Assert.Equal(0, await service.ActivationsOfAsync(org));
    }

    [Theory]
    [InlineData("v3", "nobody")]
    [InlineData("v2", "nobody")]
    [InlineData("v3", "bad%20id%21")]
    [InlineData("v2", "a%0A")]
    public async Task An_unknown_or_malformed_issuer_of_a_real_org_is_a_404_problem(string version, string entityId)
    {
        var org = await OrgWithIssuerAsync(Full);

        var response = await _anonymous.GetAsync($"/ob/{version}/orgs/{org}/issuers/{entityId}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("entityId", (await response.ProblemAsync())["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_deleted_issuer_is_no_longer_published()
    {
        var org = await OrgWithIssuerAsync(Full);
        Assert.Equal(HttpStatusCode.OK, (await _anonymous.GetAsync(V3(org, "academy"))).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await _admin.DeleteAsync(TestRequests.Issuer(org, "academy"))).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync(V3(org, "academy"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync(V2(org, "academy"))).StatusCode);
    }

    [Theory]
    [InlineData("v3")]
    [InlineData("v2")]
    public async Task A_matching_If_None_Match_is_answered_304_with_the_caching_headers_and_no_body(string version)
    {
        var org = await OrgWithIssuerAsync(Full);
        var path = $"/ob/{version}/orgs/{org}/issuers/academy";
        var (_, first) = await GetDocumentAsync(path);
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        AssertCachedFiveMinutes(first);

        // If-None-Match compares weakly: the weak form of the tag matches too, and so does "*".
        foreach (var condition in new[] { etag.Tag, "W/" + etag.Tag, $"\"other\", {etag.Tag}", "*" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("If-None-Match", condition);
            var response = await _anonymous.SendAsync(request);

            Assert.True(response.StatusCode == HttpStatusCode.NotModified, condition);
            Assert.Equal(etag, response.Headers.ETag);
            AssertCachedFiveMinutes(response);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }

        using var stale = new HttpRequestMessage(HttpMethod.Get, path);
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"stale\""));
        Assert.Equal(HttpStatusCode.OK, (await _anonymous.SendAsync(stale)).StatusCode);
    }

    [Fact]
    public async Task A_patch_of_the_issuer_changes_the_etag_and_the_body_and_the_old_etag_no_longer_matches()
    {
        var org = await OrgWithIssuerAsync(Full);
        var (beforeV3, firstV3) = await GetDocumentAsync(V3(org, "academy"));
        var (_, firstV2) = await GetDocumentAsync(V2(org, "academy"));

        var patch = await _admin.PatchJsonAsync(TestRequests.Issuer(org, "academy"), """{"name":"Renamed Academy","email":null}""");
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        foreach (var (path, first) in new[] { (V3(org, "academy"), firstV3), (V2(org, "academy"), firstV2) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
            var response = await _anonymous.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.NotEqual(first.Headers.ETag, response.Headers.ETag);
            var after = (await response.JsonAsync()).AsObject();
            Assert.Equal("Renamed Academy", after["name"]!.GetValue<string>());
            Assert.False(after.ContainsKey("email"));
        }
        Assert.Equal("Demo Academy", beforeV3["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Head_answers_the_headers_of_get_without_a_body()
    {
        var org = await OrgWithIssuerAsync(Full);
        var (_, get) = await GetDocumentAsync(V3(org, "academy"));

        var head = await _anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, V3(org, "academy")));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Equal("application/ld+json", head.Content.Headers.ContentType?.MediaType);
        AssertCachedFiveMinutes(head);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    public static TheoryData<string, string> AuthorizationHeaders => new()
    {
        { "Api-Token", ApiFactory.AdminToken },
        { "Api-Token", "not-a-token" },
        { "Api-Token", $"cro_acme.{new string('A', 43)}" },
        { "Api-Key", "cro_" },
        { "Bearer", "not.a.jwt" },
        { "Bearer", Auth.Credentials.Jwt("acme", "alice") },
    };

    [Theory]
    [MemberData(nameof(AuthorizationHeaders))]
    public async Task An_authorization_header_is_ignored_whatever_it_carries(string scheme, string credential)
    {
        var org = await OrgWithIssuerAsync(Full);
        var (_, anonymous) = await GetDocumentAsync(V3(org, "academy"));
        var before = service.Calls.To<OrgGrain>("acme") + service.Calls.To<OrgDirectoryGrain>();

        var (_, withHeader) = await GetDocumentAsync(V3(org, "academy"), service.Client(scheme, credential));

        Assert.Equal(await anonymous.Content.ReadAsStringAsync(), await withHeader.Content.ReadAsStringAsync());
        Assert.Equal(anonymous.Headers.ETag, withHeader.Headers.ETag);
        // No token was looked up: the org it names was not asked, nor the directory about it.
        Assert.Equal(before, service.Calls.To<OrgGrain>("acme") + service.Calls.To<OrgDirectoryGrain>());
    }
}

/// <summary>One probed service per backend, shared by its test class.</summary>
public abstract class OpenBadgesService(Backend backend) : IAsyncLifetime
{
    public ProbedService Service { get; } = new(new ApiFactory(backend));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Service.DisposeAsync();
}

public sealed class SqliteOpenBadgesService() : OpenBadgesService(Backend.Sqlite);

public sealed class PostgreSqlOpenBadgesService() : OpenBadgesService(Backend.PostgreSql);

public sealed class SqliteOpenBadgesProfileTests(SqliteOpenBadgesService fixture)
    : OpenBadgesProfileTests(fixture.Service), IClassFixture<SqliteOpenBadgesService>;

public sealed class PostgreSqlOpenBadgesProfileTests(PostgreSqlOpenBadgesService fixture)
    : OpenBadgesProfileTests(fixture.Service), IClassFixture<PostgreSqlOpenBadgesService>;
