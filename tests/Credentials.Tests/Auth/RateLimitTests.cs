using System.Net;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Auth;

public sealed class RateLimitTests : IAsyncLifetime
{
    private readonly ApiFactory _factory = new();

    public Task InitializeAsync()
    {
        _factory.Settings["RateLimiting:Enabled"] = "true";
        _factory.Settings["RateLimiting:PermitsPerSecond"] = "1";
        _factory.Settings["RateLimiting:Burst"] = "5";
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task A_credential_over_its_burst_gets_429_with_Retry_After_while_others_go_on()
    {
        var admin = _factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var alice = _factory.ClientWith("Bearer", Credentials.Jwt(org, "alice"));
        var bob = _factory.ClientWith("Bearer", Credentials.Jwt(org, "bob"));

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 12 && limited is null; i++)
        {
            var response = await alice.GetAsync(TestRequests.Issuers(org, "alice"));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited = response;
        }

        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        await limited.ProblemAsync();
        Assert.Contains(HttpStatusCode.OK, statuses);
        // Bob is another user: his bucket is his own.
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync(TestRequests.Issuers(org, "bob"))).StatusCode);
    }
}
