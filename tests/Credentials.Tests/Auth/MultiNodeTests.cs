using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Auth;

/// <summary>
/// Two API nodes in front of one cluster: a TestCluster and two API hosts in client mode, as in
/// production, where a node never sees another node's memory.
/// </summary>
public sealed class MultiNodeTests(SqliteClusterFixture cluster) : TwoApiNodes(cluster), IClassFixture<SqliteClusterFixture>
{
    [Fact]
    public async Task A_token_revoked_on_one_node_is_refused_by_the_other_within_5_seconds()
    {
        var admin1 = Node1.AdminClient();
        var org = await admin1.CreatePlatformAsync();
        var token = await admin1.CreateOrgTokenAsync(org, "short-lived");
        var user2 = Node2.ClientWith("Api-Token", token);
        Assert.Equal(HttpStatusCode.OK, (await user2.GetAsync(TestRequests.Issuers(org))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin1.DeleteAsync($"/api/platforms/{org}/tokens/short-lived/")).StatusCode);
        var revokedAt = Stopwatch.StartNew();

        // Node 2 may have cached the token as valid; it must stop accepting it within 5 s.
        HttpStatusCode status;
        do
        {
            status = (await user2.GetAsync(TestRequests.Issuers(org))).StatusCode;
            if (status == HttpStatusCode.Unauthorized) break;
            await Task.Delay(100);
        }
        while (revokedAt.Elapsed < TimeSpan.FromSeconds(6));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.True(revokedAt.Elapsed < TimeSpan.FromSeconds(5), $"refused only after {revokedAt.Elapsed}");
    }

    [Fact]
    public async Task A_platform_created_through_one_node_is_accepted_by_the_other_on_first_use_even_under_a_flood()
    {
        // Node 2 is kept busy with tokens of orgs that do not exist, so it catches up with the
        // directory a few times a second rather than on every unknown org.
        using var flooding = new CancellationTokenSource();
        var sent = 0;
        var flood = Task.Run(async () =>
        {
            var client = Node2.CreateClient();
            for (var i = 0; !flooding.IsCancellationRequested; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, TestRequests.Issuers("acme"));
                request.Headers.Authorization = new("Api-Token", $"cro_z{i}x.{ApiTokensForTests.RandomSecret()}");
                Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(request)).StatusCode);
                Interlocked.Increment(ref sent);
            }
        });
        while (Volatile.Read(ref sent) < 3 && !flood.IsCompleted) await Task.Delay(10);

        var admin1 = Node1.AdminClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            var org = await admin1.CreatePlatformAsync();
            var token = await admin1.CreateOrgTokenAsync(org);
            statuses.Add((await Node2.ClientWith("Api-Token", token).GetAsync(TestRequests.Issuers(org))).StatusCode);
        }
        await flooding.CancelAsync();
        await flood;

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
    }

    [Fact]
    public async Task An_issuer_created_through_one_node_is_listed_by_the_other()
    {
        var org = await Node1.AdminClient().CreatePlatformAsync();
        var created = await Node1.AdminClient().CreateIssuerAsync(org, new { name = "Seen everywhere" });

        var listed = await (await Node2.AdminClient().GetAsync(TestRequests.Issuers(org))).JsonAsync();
        Assert.Equal(created["entityId"]!.GetValue<string>(), listed["result"]!["data"]![0]!["entityId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Twenty_orgs_written_in_parallel_never_see_each_others_data()
    {
        var nodes = new[] { Node1, Node2 };
        var orgs = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => nodes[i % 2].AdminClient().CreatePlatformAsync()));
        var tokens = await Task.WhenAll(orgs.Select((org, i) => nodes[i % 2].AdminClient().CreateOrgTokenAsync(org)));

        await Task.WhenAll(orgs.Select(async (org, i) =>
        {
            var client = nodes[(i + 1) % 2].ClientWith("Api-Token", tokens[i]);
            for (var n = 0; n < 15; n++)
            {
                var response = await client.PostAsJsonAsync(TestRequests.Issuers(org), new { name = $"{org} issuer {n}" });
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }));

        for (var i = 0; i < orgs.Length; i++)
        {
            var client = nodes[i % 2].ClientWith("Api-Token", tokens[i]);
            var list = await (await client.GetAsync(TestRequests.Issuers(orgs[i]) + "?limit=100")).JsonAsync();
            Assert.Equal(15, list["result"]!["count"]!.GetValue<int>());
            Assert.All(list["result"]!["data"]!.AsArray(), issuer =>
            {
                Assert.Equal(orgs[i], issuer!["org"]!.GetValue<string>());
                Assert.StartsWith(orgs[i] + " issuer", issuer["name"]!.GetValue<string>());
            });
            // Another org's token is refused here, whatever the org.
            var foreign = nodes[i % 2].ClientWith("Api-Token", tokens[(i + 1) % orgs.Length]);
            Assert.Equal(HttpStatusCode.Forbidden, (await foreign.GetAsync(TestRequests.Issuers(orgs[i]))).StatusCode);
        }
    }
}
