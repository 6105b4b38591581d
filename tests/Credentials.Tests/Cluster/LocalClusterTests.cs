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
    /// 10.8–14.1 s alone and 19.8 s in a full test run: until the survivor has declared the dead silo dead after missed probes, its orgs'
    /// requests fail (503) or, if in flight when it died, time out after the client's 10 s
    /// (docs/operations.md). The bound leaves room for a loaded CI machine.
    /// </summary>
    public static readonly TimeSpan CrashRecoveryBound = TimeSpan.FromSeconds(30);

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
        var errors = new ConcurrentQueue<string>();
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
                    // About 10 writes a second per org keeps the shared admin credential under its rate limit.
                    await Task.Delay(100);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    failures[org].Enqueue(clock.Elapsed);
                    errors.Enqueue($"{clock.Elapsed.TotalSeconds:F1}s {org}: {ex.GetType().Name} {ex.Message}");
                    await Task.Delay(50);
                }
            }
        })).ToArray();

        async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
        {
            var deadline = clock.Elapsed + timeout;
            while (!condition())
            {
                Assert.True(clock.Elapsed < deadline, $"waited {timeout} for {what}; at {clock.Elapsed.TotalSeconds:F1}s:\n" + string.Join("\n",
                    orgs.Select(org => $"{org}: {acknowledged[org].Count} acknowledged, last at {acknowledged[org].LastOrDefault().At.TotalSeconds:F1}s, {failures[org].Count} failed, last at {LastFailure(org).TotalSeconds:F1}s")
                        .Concat(errors.TakeLast(20))));
                await Task.Delay(50);
            }
        }
        TimeSpan LastFailure(string org) => failures[org].DefaultIfEmpty(TimeSpan.Zero).Max();

        await WaitUntil(() => orgs.All(org => acknowledged[org].Count >= 3), TimeSpan.FromSeconds(60), "the load to start");
        // Kill the silo that hosts the most of these orgs.
        var hosts = await cluster.HostingSilosAsync(orgs);
        var victim = hosts.Values.GroupBy(silo => silo).OrderByDescending(g => g.Count()).First().Key;
        var killedAt = clock.Elapsed;
        Process.GetProcessById(cluster.SiloProcessId(victim)).Kill();
        try
        {
            // The survivor votes the victim dead in the membership table.
            await WaitUntil(() => cluster.SiloStatus($"silo-{victim}") == 6, TimeSpan.FromSeconds(60), $"silo-{victim} to be declared dead");
            var declaredDeadAt = clock.Elapsed;
            await WaitUntil(
                () => orgs.All(org => clock.Elapsed - (LastFailure(org) > declaredDeadAt ? LastFailure(org) : declaredDeadAt) > TimeSpan.FromSeconds(3)
                                      && acknowledged[org].Any(a => a.At > LastFailure(org) && a.At > declaredDeadAt)),
                TimeSpan.FromSeconds(60), "every org to answer again");
            await stop.CancelAsync();
            await Task.WhenAll(writers);

            // When each org answered again for good: its first acknowledgement after its last failure.
            var recovery = orgs.Select(org => LastFailure(org) < killedAt
                ? TimeSpan.Zero
                : acknowledged[org].Where(a => a.At > LastFailure(org)).Select(a => a.At).DefaultIfEmpty(TimeSpan.MaxValue).Min() - killedAt).Max();
            output.WriteLine($"killed silo-{victim} (hosting {hosts.Values.Count(h => h == victim)} of {orgs.Length} orgs); declared dead after {(declaredDeadAt - killedAt).TotalMilliseconds:F0} ms; " +
                             $"{acknowledged.Values.Sum(q => q.Count)} writes acknowledged, {failures.Values.Sum(q => q.Count)} failed; " +
                             $"every org answered again {recovery.TotalMilliseconds:F0} ms after the kill");

            foreach (var org in orgs)
            {
                var stored = new HashSet<string>();
                for (var offset = 0; ; offset += 1000)
                {
                    var page = (await node2.ListIssuersAsync(org, $"limit=1000&offset={offset}"))["result"]!;
                    stored.UnionWith(page["data"]!.AsArray().Select(i => i!["entityId"]!.GetValue<string>()));
                    if (page["next"] is null) break;
                }
                Assert.All(acknowledged[org], a => Assert.Contains(a.EntityId, stored));
            }
            Assert.True(recovery < CrashRecoveryBound, $"requests succeeded again only {recovery} after the kill");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(writers);
            // The other tests of this class share the cluster: start the victim again.
            await cluster.RestoreAsync();
        }
    }
}
