using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Api;

/// <summary>B5: health, request ids and the OpenAPI document; and the problem+json of framework-made errors.</summary>
[Collection(ApiCollection.Name)]
public sealed class OperationsTests(SqliteApiFixture fixture)
{
    private readonly ApiFactory _factory = fixture.Factory;
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    [Theory]
    [InlineData("/healthz", null)]
    [InlineData("/readyz", null)]
    [InlineData("/healthz", "wrong-token")]
    [InlineData("/readyz", "wrong-token")]
    public async Task Health_endpoints_answer_200_without_credentials(string path, string? token)
    {
        using var client = _factory.CreateClient();
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Token", token);

        var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task Health_endpoints_answer_HEAD_with_200(string path)
    {
        using var client = _factory.CreateClient();

        var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        // (Kestrel drops a HEAD answer's body; the in-memory test server does not.)
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("GET", "/healthz")]
    [InlineData("GET", "/api/platforms/{org}/")]
    [InlineData("GET", "/api/credentials/orgs/{org}/users/admin/issuers/")]
    [InlineData("GET", "/api/credentials/orgs/{org}/users/admin/issuers/missing/")]
    [InlineData("GET", "/api/credentials/orgs/BAD/users/admin/issuers/")]
    [InlineData("DELETE", "/api/platforms/")]
    public async Task A_request_id_sent_by_the_client_is_echoed(string method, string path)
    {
        var org = await _client.CreatePlatformAsync();
        var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{org}", org, StringComparison.Ordinal));
        request.Headers.Add("X-Request-Id", "client-id_42.a:b/c+d=e@f");

        var response = await _client.SendAsync(request);

        Assert.Equal("client-id_42.a:b/c+d=e@f", Assert.Single(response.Headers.GetValues("X-Request-Id")));
    }

    [Fact]
    public async Task A_request_id_is_echoed_on_a_401_too()
    {
        using var client = _factory.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/platforms/") { Content = TestRequests.JsonBody("{}") };
        request.Headers.Add("X-Request-Id", "unauthenticated-call");

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("unauthenticated-call", Assert.Single(response.Headers.GetValues("X-Request-Id")));
    }

    [Fact]
    public async Task A_request_id_is_generated_when_absent_and_differs_per_request()
    {
        var first = await _client.GetAsync("/healthz");
        var second = await _client.GetAsync("/healthz");

        var firstId = Assert.Single(first.Headers.GetValues("X-Request-Id"));
        var secondId = Assert.Single(second.Headers.GetValues("X-Request-Id"));
        Assert.False(string.IsNullOrWhiteSpace(firstId));
        Assert.False(string.IsNullOrWhiteSpace(secondId));
        Assert.NotEqual(firstId, secondId);
        // A GUID's "N" shape, as before ids came from a counter: 32 lowercase hex digits.
        Assert.Matches("^[0-9a-f]{32}$", firstId);
        Assert.Matches("^[0-9a-f]{32}$", secondId);
    }

    [Fact]
    public async Task Answers_do_not_name_the_server_software()
    {
        // WebApplicationFactory's test server never adds the header; Kestrel does unless told not to.
        var options = _factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>>().Value;
        var response = await _client.GetAsync("/healthz");

        Assert.False(options.AddServerHeader);
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public void Generated_request_ids_share_the_process_prefix_and_never_repeat()
    {
        var ids = Enumerable.Range(0, 10_000).AsParallel().Select(_ => Credentials.Api.Http.RequestIdMiddleware.NewId()).ToList();

        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Single(ids.Select(id => id[..16]).Distinct(StringComparer.Ordinal));
        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{32}$", id));
    }

    /// <summary>Every issuer and platform path of the contract, with its operations.</summary>
    public static TheoryData<string, string[]> DocumentedPaths => new()
    {
        { "/api/credentials/orgs/{org}/users/{user_id}/issuers/", ["get", "post"] },
        { "/api/credentials/orgs/{org}/users/{user_id}/issuers/{entityId}/", ["delete", "get", "patch", "put"] },
        { "/api/platforms/", ["get", "post"] },
        { "/api/platforms/{org}/", ["get"] },
        { "/api/platforms/{org}/tokens/", ["get", "post"] },
        { "/api/platforms/{org}/tokens/{name}/", ["delete"] },
    };

    [Theory, MemberData(nameof(DocumentedPaths))]
    public async Task The_openapi_document_lists_every_path_with_its_operations(string path, string[] operations)
    {
        var document = await OpenApiAsync();

        var item = PathItem(document, path);
        Assert.True(item is not null, $"{path} is missing; documented: {string.Join(", ", document["paths"]!.AsObject().Select(p => p.Key))}");
        var methods = new[] { "get", "put", "post", "delete", "patch", "head", "options", "trace" };
        Assert.Equal(operations, item.Select(kv => kv.Key).Where(methods.Contains).Order(StringComparer.Ordinal));
        foreach (var operation in operations)
        {
            var parameters = item[operation]?["parameters"]?.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToArray() ?? [];
            foreach (var placeholder in PathParameters(path)) Assert.Contains(placeholder, parameters);
        }
    }

    [Theory]
    [InlineData("/api/credentials/orgs/{org}/users/{user_id}/issuers/", "post")]
    [InlineData("/api/credentials/orgs/{org}/users/{user_id}/issuers/{entityId}/", "put")]
    [InlineData("/api/credentials/orgs/{org}/users/{user_id}/issuers/{entityId}/", "patch")]
    public async Task The_openapi_document_offers_the_three_encodings_for_issuer_writes(string path, string operation)
    {
        var document = await OpenApiAsync();

        var content = PathItem(document, path)![operation]!["requestBody"]!["content"]!.AsObject();

        Assert.Equal(
            ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
            content.Select(kv => kv.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_openapi_document_says_issuer_create_answers_200_and_platform_create_201()
    {
        var document = await OpenApiAsync();

        var issuerCreate = PathItem(document, "/api/credentials/orgs/{org}/users/{user_id}/issuers/")!["post"]!["responses"]!.AsObject();
        var platformCreate = PathItem(document, "/api/platforms/")!["post"]!["responses"]!.AsObject();

        Assert.True(issuerCreate.ContainsKey("200"));
        Assert.False(issuerCreate.ContainsKey("201"));
        Assert.True(platformCreate.ContainsKey("201"));
    }

    [Fact]
    public async Task An_unknown_path_is_a_404_problem()
    {
        var response = await _client.GetAsync("/api/no-such-thing/");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await response.ProblemAsync();
    }

    [Fact]
    public async Task A_method_the_path_does_not_allow_is_a_405_problem()
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.DeleteAsync(TestRequests.Issuers(org));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        await response.ProblemAsync();
    }

    private async Task<JsonObject> OpenApiAsync()
    {
        using var anonymous = _factory.CreateClient();
        var response = await anonymous.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.JsonAsync()).AsObject();
    }

    /// <summary>A path of the document, written with or without its trailing slash (the service serves both).</summary>
    private static JsonObject? PathItem(JsonObject document, string path) =>
        (document["paths"]?[path] ?? document["paths"]?[path.TrimEnd('/')])?.AsObject();

    private static IEnumerable<string> PathParameters(string path) =>
        path.Split('/').Where(s => s.StartsWith('{')).Select(s => s.Trim('{', '}'));
}
