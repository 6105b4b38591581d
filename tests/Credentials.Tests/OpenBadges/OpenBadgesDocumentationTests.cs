using System.Text.Json.Nodes;
using Credentials.Tests.Api;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.OpenBadges;

/// <summary>C1 in the OpenAPI document: public, JSON-LD with its schema and an example that passes the spec checks, 304, 404.</summary>
[Collection(ApiCollection.Name)]
public sealed class OpenBadgesDocumentationTests(SqliteApiFixture fixture)
{
    [Theory]
    [InlineData("/ob/v3/orgs/{org}/issuers/{entityId}", "OpenBadgesProfile")]
    [InlineData("/ob/v2/orgs/{org}/issuers/{entityId}", "OpenBadgesIssuerV2")]
    public async Task Each_profile_is_documented_as_public_json_ld_with_an_example_304_and_404(string path, string schema)
    {
        var document = await OpenApiDocument.LoadAsync(fixture.Factory);

        var item = document.Json["paths"]![path]!;
        foreach (var method in new[] { "get", "head" })
        {
            var operation = item[method]!.AsObject();
            Assert.Contains("Open Badges", operation["tags"]!.AsArray().Select(t => (string?)t));
            Assert.False(string.IsNullOrWhiteSpace((string?)operation["summary"]));
            Assert.Null(operation["security"]);
            var responses = operation["responses"]!.AsObject();
            Assert.Equal(["200", "304", "404", "429", "503"], responses.Select(r => r.Key));
            var json = responses["200"]!["content"]!["application/ld+json"]!;
            Assert.Equal("#/components/schemas/" + schema, (string?)json["schema"]!["$ref"]);
            var example = json["example"]!.AsObject();
            if (schema == "OpenBadgesProfile") OpenBadgesSpec.AssertProfileV3(example);
            else OpenBadgesSpec.AssertIssuerV2(example);
            Assert.NotNull(responses["404"]!["content"]!["application/problem+json"]);
        }
    }
}
