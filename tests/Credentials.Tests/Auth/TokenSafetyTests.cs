using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Credentials.Grains;
using Credentials.Grains.Webhooks;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Auth;

public sealed class TokenSafetyTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _logs = new();
    private readonly ApiFactory _factory;

    public TokenSafetyTests()
    {
        _factory = new ApiFactory { LogSink = _logs };
    }

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task No_secret_reaches_the_logs_during_authentication_failures()
    {
        var admin = _factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var orgToken = await admin.CreateOrgTokenAsync(org, "logged");
        var wrongAdmin = ApiFactory.AdminToken + "x";
        var forged = $"cro_{org}.forged-secret-value-that-must-not-be-logged";
        var badJwt = Credentials.Jwt(org, "alice", key: "another-signing-key-0123456789abcdef-xyz");
        var goodJwt = Credentials.Jwt(org, "alice");

        await _factory.ClientWith("Api-Token", wrongAdmin).GetAsync(TestRequests.Issuers(org));
        await _factory.ClientWith("Api-Token", forged).GetAsync(TestRequests.Issuers(org));
        await _factory.ClientWith("Bearer", badJwt).GetAsync(TestRequests.Issuers(org));
        await _factory.ClientWith("Bearer", goodJwt).GetAsync(TestRequests.Issuers(org, "bob"));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/platforms/{org}/tokens/logged/")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _factory.ClientWith("Api-Token", orgToken).GetAsync(TestRequests.Issuers(org))).StatusCode);

        Assert.NotEmpty(_logs);
        var secrets = new[]
        {
            ApiFactory.AdminToken, wrongAdmin, orgToken, orgToken.Split('.')[1], forged, badJwt, goodJwt,
            badJwt.Split('.')[2], goodJwt.Split('.')[2], ApiFactory.JwtSigningKey,
        };
        foreach (var line in _logs)
        {
            foreach (var secret in secrets) Assert.DoesNotContain(secret, line);
        }
    }

    [Fact]
    public void Values_that_carry_a_secret_print_without_it()
    {
        var token = "cro_org-1." + new string('s', 43);
        var secret = WebhookSecrets.NewSecret();
        var webhook = new WebhookInfo("w1", "https://example.com/hook", ["*"], DateTimeOffset.UnixEpoch);
        var printed = new object[]
        {
            new IssuedToken("ci-bot", token, DateTimeOffset.UnixEpoch),
            new Outcome<IssuedToken>(OutcomeStatus.Created, new("ci-bot", token, DateTimeOffset.UnixEpoch)),
            new CreatedWebhook(webhook, secret),
            new WebhookTarget(webhook.Url, "plain:" + secret),
            new StoredWebhook("w1", webhook.Url, ["*"], "plain:" + secret, DateTimeOffset.UnixEpoch, 0),
        }.Select(v => v.ToString()!).ToArray();

        Assert.Contains("ci-bot", printed[0]);
        Assert.All(printed, line => Assert.DoesNotContain(token, line));
        Assert.All(printed, line => Assert.DoesNotContain(secret["whsec_".Length..], line));
    }

    [Fact]
    public async Task Tokens_are_listed_by_name_and_date_and_never_by_secret()
    {
        var admin = _factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var secret = await admin.CreateOrgTokenAsync(org, "ci-bot");

        var listing = await (await admin.GetAsync($"/api/platforms/{org}/tokens/")).Content.ReadAsStringAsync();

        Assert.Contains("ci-bot", listing);
        Assert.DoesNotContain(secret.Split('.')[1], listing);
        var duplicate = await admin.PostAsJsonAsync($"/api/platforms/{org}/tokens/", new { name = "ci-bot" });
        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/platforms/{org}/tokens/ci-bot/")).StatusCode);
        var reused = await admin.PostAsJsonAsync($"/api/platforms/{org}/tokens/", new { name = "ci-bot" });
        Assert.Equal(HttpStatusCode.Created, reused.StatusCode);
    }

    [Fact]
    public async Task Only_hashes_of_tokens_are_stored()
    {
        var admin = _factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var secret = await admin.CreateOrgTokenAsync(org, "stored");

        var database = await File.ReadAllBytesAsync(Path.Combine(_factory.DataDirectory, "credentials.db"));
        var wal = Path.Combine(_factory.DataDirectory, "credentials.db-wal");
        var everything = System.Text.Encoding.Latin1.GetString(database) +
                         (File.Exists(wal) ? System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(wal)) : "");
        Assert.Contains("stored", everything);
        Assert.DoesNotContain(secret.Split('.')[1], everything);
    }
}
