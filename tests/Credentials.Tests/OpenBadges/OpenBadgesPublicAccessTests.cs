using System.Net;
using Credentials.Grains;
using Credentials.Tests.Auth;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.OpenBadges;

/// <summary>
/// C1 with B6 on: the documents' ids are built on <c>Api:PublicBaseUrl</c>, and every call (with
/// or without a token header, which is ignored) draws on its client address's bucket, so a flood
/// of made-up orgs from one address is answered 429 and asks no org grain.
/// </summary>
[Trait("Category", "Abuse")]
public sealed class OpenBadgesPublicAccessTests : IAsyncLifetime
{
    private const int Burst = 5;
    private const string PublicBase = "https://badges.example.org";

    private readonly ProbedService _service = new(settings: new Dictionary<string, string?>
    {
        ["Api:PublicBaseUrl"] = PublicBase + "/",
        ["RateLimiting:Enabled"] = "true",
        ["RateLimiting:AnonymousPermitsPerSecond"] = "1",
        ["RateLimiting:AnonymousBurst"] = Burst.ToString(),
    });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _service.DisposeAsync();

    private async Task<string> OrgWithIssuerAsync()
    {
        var admin = _service.Admin("192.0.2.1");
        var org = await admin.CreatePlatformAsync();
        await admin.CreateIssuerAsync(org, new { name = "Demo Academy", entityId = "academy" });
        return org;
    }

    [Fact]
    public async Task The_id_is_built_on_Api_PublicBaseUrl_rather_than_the_request_host()
    {
        var org = await OrgWithIssuerAsync();
        var client = _service.Client(address: "192.0.2.10");

        foreach (var path in new[] { OpenBadgesProfileTests.V3(org, "academy"), OpenBadgesProfileTests.V2(org, "academy") })
        {
            var document = await client.GetOkObjectAsync(path + "/");
            Assert.Equal(PublicBase + path, document["id"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_flood_of_made_up_orgs_from_one_address_gets_429_and_asks_no_org_grain_while_another_address_is_served()
    {
        var org = await OrgWithIssuerAsync();
        var flooder = _service.Client(address: "198.51.100.30");
        var made = new List<string>();

        HttpResponseMessage? limited = null;
        for (var i = 0; i < Burst * 4 && limited is null; i++)
        {
            made.Add(TestRequests.NewOrg());
            var response = await flooder.GetAsync(OpenBadgesProfileTests.V3(made[^1], "academy"));
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited = response;
            else Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        await limited.ProblemAsync();
        Assert.All(made, missing => Assert.Equal(0, _service.Calls.To<OrgGrain>(missing)));
        var other = await _service.Client(address: "198.51.100.31").GetAsync(OpenBadgesProfileTests.V3(org, "academy"));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task A_valid_token_header_does_not_lift_the_address_limit()
    {
        var org = await OrgWithIssuerAsync();
        var withToken = _service.Admin("198.51.100.40");

        var last = HttpStatusCode.OK;
        for (var i = 0; i < Burst * 4 && last != HttpStatusCode.TooManyRequests; i++)
        {
            last = (await withToken.GetAsync(OpenBadgesProfileTests.V2(org, "academy"))).StatusCode;
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, last);
        // The same token is not limited where it is read: on the credentials' own API.
        Assert.Equal(HttpStatusCode.OK, (await withToken.GetAsync($"/api/platforms/{org}/")).StatusCode);
    }
}
