using System.Diagnostics;
using System.Net;
using Credentials.Grains;
using Credentials.Tests.Auth;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Abuse;

/// <summary>
/// B6: a caller without valid credentials cannot make the service grow or stall. Tokens naming
/// orgs that do not exist cost no grain and no lasting memory; health endpoints ignore them.
/// Measures the process's managed heap, so it runs alone.
/// </summary>
[Collection(SerialCollection.Name)]
[Trait("Category", "Abuse")]
public sealed class BogusTokenFloodTests : IAsyncLifetime
{
    private const int Flood = 100_000;
    private const int RealTenantEvery = 100;
    private const int Concurrency = 1024;
    private const long AllowedGrowthBytes = 8 * 1024 * 1024;
    private static readonly string Secret = new('A', 43);

    private readonly ProbedService _service = new(settings: new Dictionary<string, string?>
    {
        // Limits on: each bogus call below comes from its own address, so the per-address table sees them all.
        ["RateLimiting:Enabled"] = "true",
    });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task A_hundred_thousand_tokens_of_made_up_orgs_leave_no_memory_and_no_grain_while_a_real_tenant_is_served()
    {
        var admin = _service.Admin("192.0.2.1");
        var org = await admin.CreatePlatformAsync();
        var tenant = _service.Client("Api-Token", await admin.CreateOrgTokenAsync(org), "192.0.2.2");
        var bogus = _service.Host.CreateClient();

        // Warm up every path (JIT, pools, this node's copy of the directory), then measure.
        await SendAsync(bogus, tenant, TestRequests.Issuers(org), first: Flood, count: 2_000);
        var before = SettledHeap();

        var clock = Stopwatch.StartNew();
        await SendAsync(bogus, tenant, TestRequests.Issuers(org), first: 0, count: Flood);
        clock.Stop();
        var after = SettledHeap();

        Assert.True(after - before < AllowedGrowthBytes,
            $"the managed heap grew by {(after - before) / 1024} KiB over {Flood} bogus calls ({clock.Elapsed})");
        Assert.Equal(0, _service.Calls.ToOrgsOtherThan(org));
        var statistics = await _service.Grains.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        Assert.True(1 == await _service.OrgActivationsAsync(), string.Join(", ", statistics.Select(s => s.ToString())));
    }

    [Fact]
    public async Task Health_endpoints_ignore_made_up_tokens_and_limits_and_ask_no_grain_per_call()
    {
        // A budget of one call without valid credentials per address: health must not draw on it.
        await using var service = new ProbedService(settings: new Dictionary<string, string?>
        {
            ["RateLimiting:Enabled"] = "true",
            ["RateLimiting:AnonymousPermitsPerSecond"] = "1",
            ["RateLimiting:AnonymousBurst"] = "1",
        });
        var client = service.Client(address: "198.51.100.99");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        var before = service.Calls.To<ProbeGrain>();

        var clock = Stopwatch.StartNew();
        for (var n = 0; n < 1_000; n++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, n % 2 == 0 ? "/healthz" : "/readyz");
            request.Headers.Authorization = new("Api-Token", $"cro_z{n}x.{Secret}");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        clock.Stop();

        Assert.True(service.Calls.ToCredentialGrains == 0, service.Calls.ToString());
        // Readiness asks the cluster at most once a second, whatever the number of callers.
        var probes = service.Calls.To<ProbeGrain>() - before;
        Assert.True(probes <= (int)Math.Ceiling(clock.Elapsed.TotalSeconds) + 1, $"{probes} grain calls in {clock.Elapsed}");
    }

    /// <summary>
    /// Bogus calls from distinct addresses, a real tenant's call every <see cref="RealTenantEvery"/>,
    /// <see cref="Concurrency"/> at a time (a call naming an unknown org waits for this node's next
    /// catch-up with the directory, a fraction of a second).
    /// </summary>
    private static async Task SendAsync(HttpClient bogus, HttpClient tenant, string tenantUrl, int first, int count)
    {
        var next = first - 1;
        var last = first + count - 1;
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) <= last)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, TestRequests.Issuers("acme"));
                request.Headers.Authorization = new("Api-Token", $"cro_z{n}x.{Secret}");
                request.Headers.Add(ProbedService.AddressHeader, $"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}");
                using var response = await bogus.SendAsync(request);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                if (n % RealTenantEvery == 0)
                {
                    using var served = await tenant.GetAsync(tenantUrl);
                    Assert.Equal(HttpStatusCode.OK, served.StatusCode);
                }
            }
        }));
    }

    private static long SettledHeap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
