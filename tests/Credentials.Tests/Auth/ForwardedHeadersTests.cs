using System.Net;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Auth;

/// <summary>
/// B6: X-Forwarded-For/Proto/Host are believed only from the proxies in <c>Api:KnownProxies</c>
/// and <c>Api:KnownNetworks</c>; from anyone else they change nothing.
/// </summary>
public sealed class ForwardedHeadersTests : IAsyncLifetime
{
    private const string Proxy = "10.9.8.7";
    private const string ProxyInNetwork = "172.20.1.2";
    private const string Direct = "203.0.113.50";
    private const int Burst = 3;

    private readonly ProbedService _service = new(settings: new Dictionary<string, string?>
    {
        ["Api:KnownProxies"] = Proxy,
        ["Api:KnownNetworks"] = "172.16.0.0/12, 192.168.0.0/16",
        ["RateLimiting:Enabled"] = "true",
        ["RateLimiting:AnonymousPermitsPerSecond"] = "1",
        ["RateLimiting:AnonymousBurst"] = Burst.ToString(),
    });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _service.DisposeAsync();

    private HttpClient From(string address, string? forwardedFor = null, string? proto = null, string? host = null, bool admin = false)
    {
        var client = admin ? _service.Admin(address) : _service.Client(address: address);
        if (forwardedFor is not null) client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        if (proto is not null) client.DefaultRequestHeaders.Add("X-Forwarded-Proto", proto);
        if (host is not null) client.DefaultRequestHeaders.Add("X-Forwarded-Host", host);
        return client;
    }

    /// <summary>The <c>previous</c> link of a list page: an absolute URL built from the request.</summary>
    private static async Task<string> PreviousLinkAsync(HttpClient client, string org)
    {
        var page = await (await client.GetAsync(TestRequests.Issuers(org) + "?limit=1&offset=1")).JsonAsync();
        return page["result"]!["previous"]!.GetValue<string>();
    }

    [Fact]
    public async Task Links_use_the_forwarded_scheme_and_host_only_from_a_known_proxy()
    {
        var org = await _service.Admin().CreatePlatformAsync();

        Assert.StartsWith("https://credentials.example/",
            await PreviousLinkAsync(From(Proxy, "198.51.100.1", "https", "credentials.example", admin: true), org));
        Assert.StartsWith("https://credentials.example/",
            await PreviousLinkAsync(From(ProxyInNetwork, "198.51.100.1", "https", "credentials.example", admin: true), org));
        Assert.StartsWith("http://localhost/",
            await PreviousLinkAsync(From(Direct, "198.51.100.1", "https", "credentials.example", admin: true), org));
    }

    [Fact]
    public async Task Through_a_known_proxy_each_forwarded_client_has_its_own_budget()
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, await SpendAsync(() => From(Proxy, "198.51.100.10")));
        // Same proxy, another client behind it.
        Assert.Equal(HttpStatusCode.Unauthorized, (await From(Proxy, "198.51.100.11").GetAsync(TestRequests.Issuers("acme"))).StatusCode);
    }

    [Fact]
    public async Task A_direct_caller_cannot_pick_its_address_with_X_Forwarded_For()
    {
        var n = 0;
        // A new forwarded address on every call: all of them count against the caller's own.
        Assert.Equal(HttpStatusCode.TooManyRequests, await SpendAsync(() => From(Direct, $"198.51.100.{++n}")));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await From(Direct).GetAsync(TestRequests.Issuers("acme"))).StatusCode);
    }

    /// <summary>Calls without credentials until one is refused with 429 (or a few past the burst).</summary>
    private static async Task<HttpStatusCode> SpendAsync(Func<HttpClient> client)
    {
        var last = HttpStatusCode.OK;
        for (var i = 0; i < Burst + 3 && last != HttpStatusCode.TooManyRequests; i++)
        {
            last = (await client().GetAsync(TestRequests.Issuers("acme"))).StatusCode;
        }
        return last;
    }
}

/// <summary>Settings that would trust anyone's forwarding headers are refused at start-up.</summary>
public sealed class ForwardedHeadersSettingsTests
{
    [Theory]
    [InlineData("Api:TrustForwardedHeaders", "true", "Api:TrustForwardedHeaders")]
    [InlineData("Api:KnownProxies", "10.0.0.1, proxy.internal", "proxy.internal")]
    [InlineData("Api:KnownNetworks", "10.0.0.0", "10.0.0.0")]
    public async Task A_bad_forwarding_setting_fails_start_up_naming_it(string key, string value, string named)
    {
        await using var factory = new ApiFactory();
        factory.Settings[key] = value;

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains(named, error.ToString());
    }
}
