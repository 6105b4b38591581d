using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Credentials.Tests.Auth;
using Credentials.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Credentials.Tests.Cluster;

/// <summary>
/// Separate processes as in production: <c>deploy/local-cluster.sh</c> runs two silos and two API
/// nodes (Orleans clients) that find each other through the PostgreSQL membership table. Nothing is
/// shared but the database, so what node 2 knows it learnt through the cluster.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class LocalClusterTests(LocalClusterFixture cluster, ITestOutputHelper output) : IClassFixture<LocalClusterFixture>
{
    /// <summary>
    /// How long after a silo process is killed (SIGKILL) requests may fail. Measured on 2 cores at
    /// 9–12 s: the survivor declares the dead silo dead after missed probes, and a request that was in
    /// flight on it is given up after the client's 10 s response timeout (docs/operations.md).
    /// </summary>
    public static readonly TimeSpan CrashRecoveryBound = TimeSpan.FromSeconds(25);

    private const string OnePixelPng = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

    [Fact]
    public async Task Every_node_is_ready_and_each_silo_is_an_active_member()
    {
        foreach (var uri in new[] { cluster.ApiNode(1), cluster.ApiNode(2), cluster.SiloProbe(1), cluster.SiloProbe(2) })
        {
            using var client = new HttpClient { BaseAddress = uri };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        }
    }

    [Fact]
    public async Task An_issuer_created_on_node_1_is_listed_on_node_2()
    {
        using var node1 = cluster.Client(1);
        using var node2 = cluster.Client(2);
        var org = await node1.CreatePlatformAsync();
        var created = await node1.CreateIssuerAsync(org, new { name = "Seen from both nodes" });

        var listed = await node2.ListIssuersAsync(org);

        Assert.Equal(created["entityId"]!.GetValue<string>(), listed["result"]!["data"]![0]!["entityId"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_token_revoked_on_node_1_is_refused_on_node_2_within_5_seconds()
    {
        using var admin1 = cluster.Client(1);
        var org = await admin1.CreatePlatformAsync();
        var token = await admin1.CreateOrgTokenAsync(org, "short-lived");
        using var user2 = cluster.Client(2, "Api-Token", token);
        Assert.Equal(HttpStatusCode.OK, (await user2.GetAsync(Http.Issuers(org))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin1.DeleteAsync($"/api/platforms/{org}/tokens/short-lived/")).StatusCode);
        var revokedAt = Stopwatch.StartNew();

        HttpStatusCode status;
        do
        {
            status = (await user2.GetAsync(Http.Issuers(org))).StatusCode;
            if (status == HttpStatusCode.Unauthorized) break;
            await Task.Delay(100);
        }
        while (revokedAt.Elapsed < TimeSpan.FromSeconds(6));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.True(revokedAt.Elapsed < TimeSpan.FromSeconds(5), $"refused only after {revokedAt.Elapsed}");
    }

    [Fact]
    public async Task Media_uploaded_on_node_1_is_served_by_node_2()
    {
        using var node1 = cluster.Client(1);
        var org = await node1.CreatePlatformAsync();
        var png = Convert.FromBase64String(OnePixelPng);
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(png) { Headers = { ContentType = new("image/png") } }, "image", "pixel.png" },
            { new StringContent("pixel"), "name" },
        };
        var response = await node1.PostAsync($"/api/credentials/orgs/{org}/users/admin/images/", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var media = new Uri(JsonNode.Parse(body)!["image"]!.GetValue<string>());

        using var anonymous2 = new HttpClient { BaseAddress = cluster.ApiNode(2) };
        var served = await anonymous2.GetAsync(media.PathAndQuery);

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("image/png", served.Content.Headers.ContentType?.MediaType);
        Assert.Equal(png, await served.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_silo_process_killed_under_write_load_loses_no_acknowledged_write_and_requests_succeed_again_within_the_bound()
    {
        using var node1 = cluster.Client(1);
        using var node2 = cluster.Client(2);
        var nodes = new[] { node1, node2 };
        var orgs = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => nodes[i % 2].CreatePlatformAsync()));
        var clock = Stopwatch.StartNew();
        var acknowledged = orgs.ToDictionary(org => org, _ => new ConcurrentQueue<(string EntityId, TimeSpan At)>());
        var failures = orgs.ToDictionary(org => org, _ => new ConcurrentQueue<TimeSpan>());
        using var stop = new CancellationTokenSource();
        var writers = orgs.Select((org, i) => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                try
                {
                    var response = await nodes[i % 2].PostAsJsonAsync(Http.Issuers(org), new { name = $"write {n}" });
                    if (response.StatusCode != HttpStatusCode.OK) throw new HttpRequestException($"{(int)response.StatusCode}");
                    var entityId = (await response.JsonAsync())["result"]!["entityId"]!.GetValue<string>();
                    acknowledged[org].Enqueue((entityId, clock.Elapsed));
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    failures[org].Enqueue(clock.Elapsed);
                    await Task.Delay(50);
                }
            }
        })).ToArray();

        async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
        {
            var deadline = clock.Elapsed + timeout;
            while (!condition())
            {
                Assert.True(clock.Elapsed < deadline, $"waited {timeout} for {what}");
                await Task.Delay(50);
            }
        }
        TimeSpan LastFailure(string org) => failures[org].DefaultIfEmpty(TimeSpan.Zero).Max();

        await WaitUntil(() => orgs.All(org => acknowledged[org].Count >= 3), TimeSpan.FromSeconds(60), "the load to start");
        var killedAt = clock.Elapsed;
        Process.GetProcessById(cluster.SiloProcessId(1)).Kill();
        await WaitUntil(
            () => orgs.All(org => clock.Elapsed - (LastFailure(org) > killedAt ? LastFailure(org) : killedAt) > TimeSpan.FromSeconds(3)
                                  && acknowledged[org].Any(a => a.At > LastFailure(org) && a.At > killedAt)),
            TimeSpan.FromSeconds(120), "every org to answer again");
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        var recovery = orgs.Select(org => LastFailure(org) < killedAt
            ? TimeSpan.Zero
            : acknowledged[org].Where(a => a.At > LastFailure(org)).Min(a => a.At) - killedAt).Max();
        output.WriteLine($"killed silo-1; {acknowledged.Values.Sum(q => q.Count)} writes acknowledged, " +
                         $"{failures.Values.Sum(q => q.Count)} failed; every org answered again {recovery.TotalMilliseconds:F0} ms after the kill");

        foreach (var org in orgs)
        {
            var stored = (await node2.ListIssuersAsync(org, "limit=1000"))["result"]!["data"]!.AsArray()
                .Select(i => i!["entityId"]!.GetValue<string>()).ToHashSet();
            Assert.All(acknowledged[org], a => Assert.Contains(a.EntityId, stored));
        }
        Assert.True(recovery < CrashRecoveryBound, $"requests succeeded again only {recovery} after the kill");

        await cluster.RestoreAsync();
    }
}
