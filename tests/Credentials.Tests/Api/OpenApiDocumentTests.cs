using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Api;

/// <summary>B5, issue 11: the OpenAPI document is the whole truth about every mapped endpoint.</summary>
[Collection(ApiCollection.Name)]
public sealed class OpenApiDocumentTests(SqliteApiFixture fixture)
{
    private readonly ApiFactory _factory = fixture.Factory;

    [Fact]
    public async Task The_document_declares_the_Api_Token_and_Bearer_schemes()
    {
        var document = await OpenApiDocument.LoadAsync(_factory);

        var schemes = document.Json["components"]!["securitySchemes"]!;
        Assert.Equal("apiKey", (string?)schemes["ApiToken"]!["type"]);
        Assert.Equal("header", (string?)schemes["ApiToken"]!["in"]);
        Assert.Equal("Authorization", (string?)schemes["ApiToken"]!["name"]);
        Assert.Contains("Api-Token", (string?)schemes["ApiToken"]!["description"]);
        Assert.Equal("http", (string?)schemes["Bearer"]!["type"]);
        Assert.Equal("bearer", (string?)schemes["Bearer"]!["scheme"]);
        Assert.Equal("JWT", (string?)schemes["Bearer"]!["bearerFormat"]);
    }

    [Fact]
    public async Task The_document_reads_and_validates_as_OpenAPI_without_errors()
    {
        using var anonymous = _factory.CreateClient();
        var text = await anonymous.GetStringAsync("/openapi/v1.json");

        var read = Microsoft.OpenApi.OpenApiDocument.Parse(text, "json");

        Assert.Empty(read.Diagnostic!.Errors);
        Assert.Empty(Microsoft.OpenApi.OpenApiElementExtensions.Validate(read.Document!, Microsoft.OpenApi.ValidationRuleSet.GetDefaultRuleSet()));
    }

    [Fact]
    public async Task Every_mapped_endpoint_is_documented_and_every_documented_operation_is_mapped()
    {
        var document = await OpenApiDocument.LoadAsync(_factory);

        Assert.NotEmpty(document.Endpoints);
        foreach (var endpoint in document.Endpoints) document.Operation(endpoint);
        var mapped = document.Endpoints.Select(e => (e.Path, e.Method)).ToHashSet();
        Assert.All(document.Operations(), op => Assert.Contains((op.Path, op.Method), mapped));
    }

    [Fact]
    public async Task Every_operation_that_needs_credentials_declares_its_schemes_401_and_403_and_no_other_does()
    {
        var document = await OpenApiDocument.LoadAsync(_factory);

        Assert.Contains(document.Endpoints, e => e.NeedsCredentials);
        Assert.Contains(document.Endpoints, e => !e.NeedsCredentials);
        foreach (var endpoint in document.Endpoints)
        {
            var operation = document.Operation(endpoint);
            var schemes = operation["security"]?.AsArray().SelectMany(r => r!.AsObject().Select(s => s.Key)).ToArray() ?? [];
            var responses = Responses(operation);
            if (endpoint.NeedsCredentials)
            {
                Assert.True(schemes.Contains("ApiToken"), $"{endpoint} does not declare the Api-Token scheme.");
                Assert.True(responses.ContainsKey("401") && responses.ContainsKey("403"), $"{endpoint} does not declare 401 and 403.");
            }
            else
            {
                Assert.True(schemes.Length == 0, $"{endpoint} is anonymous but declares {string.Join(", ", schemes)}.");
                Assert.False(responses.ContainsKey("401"), $"{endpoint} is anonymous but declares 401.");
            }
        }
    }

    [Fact]
    public async Task Only_the_super_admin_operation_refuses_Bearer()
    {
        var document = await OpenApiDocument.LoadAsync(_factory);

        foreach (var endpoint in document.Endpoints.Where(e => e.NeedsCredentials))
        {
            var schemes = document.Operation(endpoint)["security"]!.AsArray().SelectMany(r => r!.AsObject().Select(s => s.Key)).ToArray();
            var superAdminOnly = endpoint.Endpoint.Metadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>()
                .Any(a => a.Policy == Credentials.Api.Auth.AccessPolicies.SuperAdmin);
            Assert.Equal(!superAdminOnly, schemes.Contains("Bearer"));
        }
    }

    [Fact]
    public async Task Every_operation_declares_the_problems_the_pipeline_can_answer()
    {
        var document = await OpenApiDocument.LoadAsync(_factory);

        foreach (var endpoint in document.Endpoints)
        {
            var responses = Responses(document.Operation(endpoint));
            if (endpoint.IsRateLimited)
            {
                Assert.True(responses.ContainsKey("429"), $"{endpoint} is rate-limited but does not declare 429.");
                Assert.True(responses.ContainsKey("503"), $"{endpoint} can meet a dependency outage but does not declare 503.");
            }
            if (endpoint.TakesBody)
            {
                Assert.True(responses.ContainsKey("413") && responses.ContainsKey("415"), $"{endpoint} takes a body but does not declare 413 and 415.");
            }
            if (endpoint.NeedsCredentials && endpoint.Path.Contains("{org}", StringComparison.Ordinal))
            {
                Assert.True(responses.ContainsKey("400") && responses.ContainsKey("404"), $"{endpoint} names an org but does not declare 400 and 404.");
            }
        }
    }

    [Fact]
    public async Task Every_problem_response_is_problem_json_with_a_problem_details_schema()
    {
        var document = await OpenApiDocument.LoadAsync(_factory);
        var count = 0;

        foreach (var (path, method, operation) in document.Operations())
        {
            foreach (var (status, response) in Responses(operation))
            {
                if (int.Parse(status) < 400 || (path.StartsWith("/media/", StringComparison.Ordinal) && status == "404")) continue;
                var content = response!["content"]?["application/problem+json"];
                Assert.True(content is not null, $"{method.ToUpperInvariant()} {path} {status} is not application/problem+json.");
                Assert.Matches("^#/components/schemas/(Http)?(Validation)?ProblemDetails$", (string?)content["schema"]!["$ref"]);
                Assert.False(string.IsNullOrWhiteSpace((string?)response["description"]));
                count++;
            }
        }
        Assert.True(count > 50, $"only {count} problem responses are documented");
        Assert.NotNull(document.Json["components"]!["schemas"]!["ProblemDetails"]);
    }

    [Theory]
    [InlineData("/api/credentials/orgs/{org}/users/{user_id}/issuers", "post")]
    [InlineData("/api/credentials/orgs/{org}/users/{user_id}/issuers/{entityId}", "put")]
    [InlineData("/api/credentials/orgs/{org}/users/{user_id}/issuers/{entityId}", "patch")]
    [InlineData("/api/credentials/orgs/{org}/users/{user_id}/images", "post")]
    public async Task Writes_that_grow_an_org_declare_the_quota_409(string path, string method)
    {
        var document = await OpenApiDocument.LoadAsync(_factory);

        Assert.True(Responses(document.Json["paths"]![path]![method]!.AsObject()).ContainsKey("409"));
    }

    [Fact]
    public async Task Image_search_requires_query_and_paging_parameters_are_integers_with_a_minimum()
    {
        var document = await OpenApiDocument.LoadAsync(_factory);

        var search = Parameters(document.Json["paths"]!["/api/credentials/orgs/{org}/users/{user_id}/images"]!["get"]!);
        Assert.True((bool?)search["query"]["required"]);
        var paged = document.Operations().Where(op => Parameters(op.Operation).ContainsKey("limit")).ToArray();
        Assert.True(paged.Length >= 2, "the issuer list and image search take limit");
        foreach (var (path, _, operation) in paged)
        {
            var parameters = Parameters(operation);
            Assert.Equal("integer", (string?)parameters["limit"]["schema"]!["type"]);
            Assert.Equal(1, (int?)parameters["limit"]["schema"]!["minimum"]);
            // Offset paging, or a cursor (the event feed's after).
            var start = parameters.TryGetValue("offset", out var offset) ? offset : parameters["after"];
            Assert.Equal("integer", (string?)start["schema"]!["type"]);
            Assert.Equal(0, (int?)start["schema"]!["minimum"]);
        }
    }

    [Fact]
    public async Task The_documented_paging_minimums_are_the_ones_the_api_enforces()
    {
        using var client = _factory.AdminClient();
        var org = await client.CreatePlatformAsync();
        var issuers = TestRequests.Issuers(org);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(issuers + "?limit=1&offset=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync(issuers + "?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync(issuers + "?offset=-1")).StatusCode);
    }

    [Fact]
    public async Task Media_declares_its_image_types_304_and_distinct_operation_ids_for_get_and_head()
    {
        var document = await OpenApiDocument.LoadAsync(_factory);

        var item = document.Json["paths"]!["/media/uploaded_images/{org}/{file}"]!;
        foreach (var method in new[] { "get", "head" })
        {
            var responses = Responses(item[method]!.AsObject());
            var types = responses["200"]!["content"]!.AsObject().Select(c => c.Key).Order(StringComparer.Ordinal);
            Assert.Equal(["image/gif", "image/jpeg", "image/png", "image/svg+xml", "image/webp"], types);
            Assert.True(responses.ContainsKey("304"));
        }
        var ids = document.Operations().Select(op => (string?)op.Operation["operationId"]).ToArray();
        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id)));
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    [Fact]
    public async Task The_reference_page_loads_its_script_from_this_service_under_a_nonce_policy()
    {
        using var anonymous = _factory.CreateClient();

        var page = await anonymous.GetAsync("/scalar/");
        var html = await page.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var policy = Assert.Single(page.Headers.GetValues("Content-Security-Policy"));
        var nonce = Regex.Match(policy, "'nonce-([^']+)'").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(nonce), policy);
        Assert.Contains("default-src 'none'", policy);
        Assert.Contains("connect-src 'self';", policy);
        Assert.DoesNotContain("unsafe-eval", policy);
        Assert.DoesNotContain("http", policy);
        var scripts = Regex.Matches(html, "<script([^>]*)>");
        Assert.NotEmpty(scripts);
        Assert.All(scripts, s => Assert.Contains($"nonce=\"{nonce}\"", s.Value));
        Assert.All(Regex.Matches(html, "src=\"([^\"]+)\""), s => Assert.DoesNotContain("//", s.Groups[1].Value));
        var next = Assert.Single((await anonymous.GetAsync("/scalar/")).Headers.GetValues("Content-Security-Policy"));
        Assert.DoesNotContain(nonce, next); // a fresh nonce per page

        var bundle = await anonymous.GetAsync("/scalar/scalar.js");
        Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
        Assert.True((await bundle.Content.ReadAsByteArrayAsync()).Length > 1_000_000, "the bundled script is served from the package");
    }

    private static Dictionary<string, JsonNode?> Responses(JsonObject operation) =>
        operation["responses"]!.AsObject().ToDictionary(r => r.Key, r => r.Value);

    private static Dictionary<string, JsonNode> Parameters(JsonNode operation) =>
        operation["parameters"]?.AsArray().ToDictionary(p => (string)p!["name"]!, p => p!) ?? [];
}
