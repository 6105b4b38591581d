using Credentials.Tests.Api;

namespace Credentials.Tests.Idempotency;

/// <summary>C3 in the OpenAPI document: the header on every POST that takes it, with its 409 and 422.</summary>
public sealed class IdempotencyOpenApiTests(SqliteIdempotencyService service) : IClassFixture<SqliteIdempotencyService>
{
    [Fact]
    public async Task Every_POST_but_token_and_webhook_creation_declares_the_Idempotency_Key_header_and_its_409_and_422()
    {
        var document = await OpenApiDocument.LoadAsync(service.Factory);

        var posts = document.Operations().Where(op => op.Method == "post").ToArray();
        Assert.True(posts.Length >= 4, "platform, token, issuer and image creates are POSTs");
        foreach (var (path, _, operation) in posts)
        {
            var header = operation["parameters"]?.AsArray().FirstOrDefault(p => (string?)p!["name"] == "Idempotency-Key");
            var responses = operation["responses"]!.AsObject();
            // Their answers hold a secret that a kept answer would store: they refuse a key.
            if (path is "/api/platforms/{org}/tokens" or "/api/platforms/{org}/webhooks")
            {
                Assert.Null(header);
                continue;
            }
            Assert.True(header is not null, $"POST {path} does not declare Idempotency-Key");
            Assert.Equal("header", (string?)header["in"]);
            Assert.Equal(255, (int?)header["schema"]!["maxLength"]);
            Assert.True(responses.ContainsKey("409") && responses.ContainsKey("422"), $"POST {path} lacks 409 or 422");
        }
    }
}
