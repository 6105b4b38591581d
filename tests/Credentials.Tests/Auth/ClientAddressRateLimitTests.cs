using System.Net;
using Credentials.Grains;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Auth;

/// <summary>
/// B2b and B6: calls without valid credentials (none, or refused) draw on their client address's
/// budget, and once it is spent they are answered 429 before any grain is asked; other addresses
/// and valid credentials are unaffected.
/// </summary>
[Trait("Category", "Abuse")]
public sealed class ClientAddressRateLimitTests : IAsyncLifetime
{
    private const int Burst = 5;
    private readonly ProbedService _service = new(settings: new Dictionary<string, string?>
    {
        ["RateLimiting:Enabled"] = "true",
        ["RateLimiting:AnonymousPermitsPerSecond"] = "1",
        ["RateLimiting:AnonymousBurst"] = Burst.ToString(),
    });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task A_failed_credentials_flood_from_one_address_gets_429_while_another_address_goes_on()
    {
        var admin = _service.Admin("192.0.2.1");
        var org = await admin.CreatePlatformAsync();
        var token = await admin.CreateOrgTokenAsync(org);
        var callsBefore = _service.Calls.To<OrgGrain>(org);

        // Well-shaped tokens of a real org with wrong secrets: each would cost a grain call.
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 40; i++)
        {
            var guess = _service.Client("Api-Token", $"cro_{org}.{ApiTokensForTests.RandomSecret()}", "198.51.100.7");
            var response = await guess.GetAsync(TestRequests.Issuers(org));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited ??= response;
        }

        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        await limited.ProblemAsync();
        Assert.Contains(HttpStatusCode.Unauthorized, statuses);
        // Only the guesses within the budget (plus what refilled meanwhile) reached the org grain.
        Assert.Equal(statuses.Count(s => s == HttpStatusCode.Unauthorized), _service.Calls.To<OrgGrain>(org) - callsBefore);

        // Another address is not affected, with or without credentials.
        Assert.Equal(HttpStatusCode.OK, (await _service.Client("Api-Token", token, "203.0.113.9").GetAsync(TestRequests.Issuers(org))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _service.Client(address: "203.0.113.9").GetAsync(TestRequests.Issuers(org))).StatusCode);
        // Credentials checked without a grain still pass from the flooding address: the super-admin, user tokens.
        Assert.Equal(HttpStatusCode.OK, (await _service.Admin("198.51.100.7").GetAsync($"/api/platforms/{org}/")).StatusCode);
        var user = _service.Client("Bearer", Credentials.Jwt(org, "alice"), "198.51.100.7");
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync(TestRequests.Issuers(org, "alice"))).StatusCode);
    }

    [Fact]
    public async Task Calls_without_credentials_are_limited_per_address()
    {
        HttpStatusCode last = HttpStatusCode.OK;
        for (var i = 0; i < Burst + 3 && last != HttpStatusCode.TooManyRequests; i++)
        {
            last = (await _service.Client(address: "198.51.100.20").GetAsync(TestRequests.Issuers("acme"))).StatusCode;
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, last);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _service.Client(address: "198.51.100.21").GetAsync(TestRequests.Issuers("acme"))).StatusCode);
    }

    [Fact]
    public async Task IPv6_addresses_of_one_64_block_share_a_budget()
    {
        HttpStatusCode last = HttpStatusCode.OK;
        for (var i = 0; i < Burst + 3 && last != HttpStatusCode.TooManyRequests; i++)
        {
            last = (await _service.Client(address: $"2001:db8:1:2::{i + 1:x}").GetAsync(TestRequests.Issuers("acme"))).StatusCode;
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, last);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _service.Client(address: "2001:db8:1:3::1").GetAsync(TestRequests.Issuers("acme"))).StatusCode);
    }
}

/// <summary>Secrets of the org-token shape that no org issued.</summary>
public static class ApiTokensForTests
{
    public static string RandomSecret() => ApiTokens.RandomBase64Url(32);
}
