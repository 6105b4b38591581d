using System.Net;
using System.Text;
using Credentials.Api.Http;
using Credentials.Grains;
using Credentials.Tests.Auth;
using Credentials.Tests.Images;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Credentials.Tests.Idempotency.IdempotencyRequests;

namespace Credentials.Tests.Idempotency;

/// <summary>
/// C3 over HTTP, on both backends: a retried POST replays its first answer and changes nothing;
/// a different body is 422, a repeat of a running request 409; keys are per credential and path.
/// </summary>
public abstract class IdempotencyTests(ApiFactory factory)
{
    private readonly HttpClient _admin = factory.AdminClient();

    /// <summary>A POST the contract knows, with what it creates counted after it.</summary>
    public sealed record Write(string Url, Func<HttpContent> Body, Func<HttpClient, Task<int>> Count);

    private async Task<Write> WriteOf(string kind)
    {
        if (kind == "platform")
        {
            var key = TestRequests.NewOrg();
            return new Write("/api/platforms/", Json($$"""{"key":"{{key}}","name":"Retried"}"""),
                async client => (await client.GetAsync($"/api/platforms/{key}/")).StatusCode == HttpStatusCode.OK ? 1 : 0);
        }
        var org = await _admin.CreatePlatformAsync();
        Task<int> Issuers(HttpClient client) => client.IssuerCountAsync(org);
        return kind switch
        {
            "issuer-json" => new Write(TestRequests.Issuers(org), Json("""{"name":"Retried issuer","email":"a@example.org"}"""), Issuers),
            "issuer-form" => new Write(TestRequests.Issuers(org),
                () => new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "Form issuer", ["email"] = "f@example.org" }), Issuers),
            "issuer-multipart" => new Write(TestRequests.Issuers(org), () => new MultipartFormDataContent { { new StringContent("Multipart issuer"), "name" } }, Issuers),
            "image" => new Write(ImageRequests.Images(org), () => ImageRequests.Upload(SampleImages.Png(), "logo.png", "image/png", "Logo"),
                async client => (await client.SearchImagesAsync(org, "")).Length),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Theory]
    [InlineData("issuer-json")]
    [InlineData("issuer-form")]
    [InlineData("issuer-multipart")]
    [InlineData("image")]
    [InlineData("platform")]
    public async Task A_POST_retried_with_the_same_key_replays_its_first_answer_byte_for_byte_and_creates_nothing_more(string kind)
    {
        var write = await WriteOf(kind);
        var key = NewKey();

        var first = await _admin.PostAsync(write.Url, write.Body, key);
        var second = await _admin.PostAsync(write.Url, write.Body, key);
        var third = await _admin.PostAsync(write.Url, write.Body, key);

        Assert.True((int)first.Status is >= 200 and < 300, $"{(int)first.Status} {first.Text}");
        Assert.False(first.Replayed);
        second.AssertReplayOf(first);
        third.AssertReplayOf(first);
        Assert.Equal(1, await write.Count(_admin));
    }

    [Fact]
    public async Task Without_the_header_nothing_changes_each_POST_creates()
    {
        var write = await WriteOf("issuer-json");

        var first = await _admin.PostAsync(write.Url, write.Body);
        var second = await _admin.PostAsync(write.Url, write.Body);

        Assert.False(first.Replayed || second.Replayed);
        Assert.NotEqual(first.Body, second.Body);
        Assert.Equal(2, await write.Count(_admin));
    }

    [Fact]
    public async Task The_platform_create_replay_keeps_its_Location_and_status_201()
    {
        var write = await WriteOf("platform");
        var key = NewKey();

        var first = await _admin.PostAsync(write.Url, write.Body, key);
        var replay = await _admin.PostAsync(write.Url, write.Body, key);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.NotNull(first.Location);
        replay.AssertReplayOf(first);
    }

    [Fact]
    public async Task A_trailing_slash_does_not_make_another_path()
    {
        var write = await WriteOf("issuer-json");
        var key = NewKey();

        var first = await _admin.PostAsync(write.Url, write.Body, key);
        var replay = await _admin.PostAsync(write.Url.TrimEnd('/'), write.Body, key);

        replay.AssertReplayOf(first);
        Assert.Equal(1, await write.Count(_admin));
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_422_and_stores_nothing()
    {
        var write = await WriteOf("issuer-json");
        var key = NewKey();
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync(write.Url, write.Body, key)).Status);

        var other = await _admin.PostAsync(write.Url, Json("""{"name":"Another issuer"}"""), key);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.Status);
        Assert.Equal("application/problem+json", other.ContentType);
        Assert.Equal(1, await write.Count(_admin));
    }

    [Fact]
    public async Task A_multipart_upload_with_another_file_or_field_under_the_same_key_is_422()
    {
        var org = await _admin.CreatePlatformAsync();
        var key = NewKey();
        var url = ImageRequests.Images(org);
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync(url, () => ImageRequests.Upload(SampleImages.Png(seed: 1), "a.png", "image/png", "A"), key)).Status);

        var otherFile = await _admin.PostAsync(url, () => ImageRequests.Upload(SampleImages.Png(seed: 2), "a.png", "image/png", "A"), key);
        var otherName = await _admin.PostAsync(url, () => ImageRequests.Upload(SampleImages.Png(seed: 1), "a.png", "image/png", "B"), key);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherFile.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherName.Status);
        Assert.Single(await _admin.SearchImagesAsync(org, ""));
    }

    [Fact]
    public async Task A_repeat_while_the_first_request_still_runs_is_409_and_runs_once_the_first_is_released()
    {
        var write = await WriteOf("issuer-json");
        var key = NewKey();
        // The first request, as an API node that has claimed the key and not yet answered.
        var (grain, running, lease) = await ClaimAsync(write, key);

        var repeat = await _admin.PostAsync(write.Url, write.Body, key);
        var otherBody = await _admin.PostAsync(write.Url, Json("""{"name":"Another"}"""), key);

        Assert.Equal(HttpStatusCode.Conflict, repeat.Status);
        Assert.Equal("application/problem+json", repeat.ContentType);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherBody.Status);
        Assert.Equal(0, await write.Count(_admin));

        // The first ends with a 5xx: nothing is kept and a repeat runs.
        await grain.CompleteIdempotencyKey(running, lease, null);
        var retried = await _admin.PostAsync(write.Url, write.Body, key);
        Assert.Equal(HttpStatusCode.OK, retried.Status);
        Assert.False(retried.Replayed);
        (await _admin.PostAsync(write.Url, write.Body, key)).AssertReplayOf(retried);
    }

    /// <summary>Claims <paramref name="key"/> for the super-admin's POST of <paramref name="write"/> straight at the org grain.</summary>
    private async Task<(IOrgGrain Grain, IdempotentRequest Request, Guid Lease)> ClaimAsync(Write write, string key)
    {
        var context = new DefaultHttpContext();
        var content = write.Body();
        context.Request.ContentType = content.Headers.ContentType!.ToString();
        context.Request.Body = new MemoryStream(await content.ReadAsByteArrayAsync());
        var (fingerprint, _) = await IdempotencyFingerprint.ComputeAsync(context.Request, 1 << 20, CancellationToken.None);
        var org = write.Url.Split('/')[4];
        var request = new IdempotentRequest(IdempotencyMiddleware.Scope("superadmin", write.Url, key), fingerprint!);
        var grain = factory.Services.GetRequiredService<IGrainFactory>().GetGrain<IOrgGrain>(org);
        var claim = await grain.ClaimIdempotencyKey(request);
        Assert.Equal(IdempotentStart.Run, claim.Start);
        return (grain, request, claim.Lease);
    }

    [Fact]
    public async Task A_key_is_the_credentials_own_another_credential_with_the_same_key_runs_again()
    {
        var write = await WriteOf("issuer-json");
        var org = write.Url.Split('/')[4];
        var key = NewKey();
        var token = factory.ClientWith("Api-Token", await _admin.CreateOrgTokenAsync(org));
        var alice = factory.ClientWith("Bearer", Auth.Credentials.Jwt(org, "alice", "admin"));
        var aliceAgain = factory.ClientWith("Bearer", Auth.Credentials.Jwt(org, "alice", "admin", expiresIn: TimeSpan.FromMinutes(9)));
        var bob = factory.ClientWith("Bearer", Auth.Credentials.Jwt(org, "bob", "admin"));

        var answers = new List<Answer>();
        foreach (var client in new[] { _admin, token, alice, bob }) answers.Add(await client.PostAsync(write.Url, write.Body, key));
        var aliceRetry = await aliceAgain.PostAsync(write.Url, write.Body, key);

        Assert.All(answers, a => Assert.False(a.Replayed));
        Assert.Equal(4, answers.Select(a => a.Text).Distinct().Count());
        aliceRetry.AssertReplayOf(answers[2]);
        Assert.Equal(4, await write.Count(_admin));
    }

    [Theory]
    [InlineData("tab\there")]
    [InlineData("naïve")]
    [InlineData("bell\u0007")]
    [InlineData("256")]
    public async Task A_key_that_is_not_1_to_255_printable_ASCII_is_400(string key)
    {
        if (key == "256") key = new string('k', 256);
        var write = await WriteOf("issuer-json");

        var answer = await _admin.PostAsync(write.Url, write.Body, key);

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains(IdempotencyMiddleware.KeyHeader, answer.Text);
        Assert.Equal(0, await write.Count(_admin));
    }

    [Fact]
    public void An_empty_key_is_not_a_key()
    {
        // HttpClient does not send an empty header value; Kestrel hands one over as "".
        Assert.False(IdempotencyMiddleware.IsValidKey(""));
        Assert.True(IdempotencyMiddleware.IsValidKey(" "));
    }

    [Fact]
    public async Task Two_keys_in_one_request_are_400_and_a_255_character_key_is_taken()
    {
        var write = await WriteOf("issuer-json");

        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PostAsync(write.Url, write.Body, "one", "two")).Status);
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync(write.Url, write.Body, new string('~', 255))).Status);
    }

    [Fact]
    public async Task Token_creation_refuses_a_key_because_its_secret_is_never_stored()
    {
        var org = await _admin.CreatePlatformAsync();
        var url = $"/api/platforms/{org}/tokens/";

        var keyed = await _admin.PostAsync(url, Json("""{"name":"ci"}"""), NewKey());
        var plain = await _admin.PostAsync(url, Json("""{"name":"ci"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, keyed.Status);
        Assert.Contains("secret", keyed.Text);
        Assert.Equal(HttpStatusCode.Created, plain.Status);
    }

    [Fact]
    public async Task Webhook_creation_refuses_a_key_so_its_signing_secret_is_never_kept_in_an_answer()
    {
        var org = await _admin.CreatePlatformAsync();
        var url = $"/api/platforms/{org}/webhooks/";

        var keyed = await _admin.PostAsync(url, Json("""{"url":"https://hooks.example.com/x","events":["*"]}"""), NewKey());
        var listed = await _admin.GetStringAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, keyed.Status);
        Assert.Contains("secret", keyed.Text);
        Assert.Equal("[]", listed);
    }

    [Fact]
    public async Task A_failed_answer_below_500_is_kept_too()
    {
        var write = await WriteOf("issuer-json");
        var key = NewKey();
        var invalid = Json("""{"name":""}""");

        var first = await _admin.PostAsync(write.Url, invalid, key);
        var replay = await _admin.PostAsync(write.Url, invalid, key);

        Assert.Equal(HttpStatusCode.BadRequest, first.Status);
        replay.AssertReplayOf(first);
    }

    [Fact]
    public async Task A_key_for_an_org_that_does_not_exist_keeps_nothing()
    {
        var url = TestRequests.Issuers(TestRequests.NewOrg());
        var key = NewKey();

        var first = await _admin.PostAsync(url, Json("""{"name":"x"}"""), key);
        var again = await _admin.PostAsync(url, Json("""{"name":"x"}"""), key);

        Assert.Equal(HttpStatusCode.NotFound, first.Status);
        Assert.Equal(HttpStatusCode.NotFound, again.Status);
        Assert.False(again.Replayed);
    }
}

public abstract class IdempotencyService(Backend backend) : IAsyncLifetime
{
    public ApiFactory Factory { get; } = new(backend);

    public Task InitializeAsync()
    {
        _ = Factory.Server;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}

public sealed class SqliteIdempotencyService() : IdempotencyService(Backend.Sqlite);

public sealed class PostgreSqlIdempotencyService() : IdempotencyService(Backend.PostgreSql);

public sealed class SqliteIdempotencyTests(SqliteIdempotencyService service) : IdempotencyTests(service.Factory), IClassFixture<SqliteIdempotencyService>;

public sealed class PostgreSqlIdempotencyTests(PostgreSqlIdempotencyService service) : IdempotencyTests(service.Factory), IClassFixture<PostgreSqlIdempotencyService>;
