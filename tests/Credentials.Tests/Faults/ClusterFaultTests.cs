using System.Diagnostics;
using Credentials.Tests.Auth;
using Credentials.Tests.Cluster;
using Credentials.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Credentials.Tests.Faults;

/// <summary>
/// Faults of the local cluster (<c>deploy/local-cluster.sh</c>: two silos and two API nodes as
/// separate processes, on the test PostgreSQL server) under write load from both API nodes.
/// </summary>
[Collection(LocalClusterCollection.Name)]
[Trait("Category", "Fault")]
public sealed class ClusterFaultTests(LocalClusterFixture cluster, ITestOutputHelper output)
{
    /// <summary>
    /// How long after a silo process is killed (SIGKILL) requests may fail. Measured on 2 cores at
    /// 10.8–14.1 s alone and 19.8 s in a full test run: until the survivor has declared the dead silo dead after missed probes, its orgs'
    /// requests fail (503) or, if in flight when it died, time out after the client's 10 s
    /// (docs/operations.md). The bound leaves room for a loaded CI machine.
    /// </summary>
    public static readonly TimeSpan CrashRecoveryBound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Issuer POSTs and image uploads (WriteLedger, 16 writers over both API nodes) while the silo
    /// hosting most of the orgs is killed: every answer is 2xx or 503, every acknowledged write is
    /// read back afterwards (issuers by entityId, images by id and their media bytes), and every
    /// org answers again within <see cref="CrashRecoveryBound"/>.
    /// </summary>
    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_silo_process_killed_under_write_load_loses_no_acknowledged_write_and_requests_succeed_again_within_the_bound()
    {
        using var node1 = cluster.Client(1);
        using var node2 = cluster.Client(2);
        var nodes = new[] { node1, node2 };
        var orgs = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => nodes[i % 2].CreatePlatformWhenAvailableAsync(TimeSpan.FromSeconds(30))));
        await using var ledger = new WriteLedger([cluster.ApiNode(1), cluster.ApiNode(2)], ApiFactory.AdminToken, orgs, new WriteLedger.Options { Writers = 16 });
        ledger.Start();
        var killedAt = TimeSpan.Zero;
        try
        {
            await FaultRun.WithDeadline(TimeSpan.FromSeconds(240), async () =>
            {
                await ledger.WaitUntilAsync(() => orgs.All(org => ledger.Acks.Count(a => a.Org == org) >= 3), TimeSpan.FromSeconds(60), "the load to start");
                // Kill the silo that hosts the most of these orgs.
                var hosts = await cluster.HostingSilosAsync(orgs);
                var victim = hosts.Values.GroupBy(silo => silo).OrderByDescending(g => g.Count()).First().Key;
                killedAt = ledger.Now;
                Process.GetProcessById(cluster.SiloProcessId(victim)).Kill();

                // The survivor votes the victim dead in the membership table.
                await ledger.WaitUntilAsync(() => cluster.SiloStatus($"silo-{victim}") == 6, TimeSpan.FromSeconds(60), $"silo-{victim} to be declared dead");
                var declaredDeadAt = ledger.Now;
                TimeSpan LastFailure(string org) => ledger.Failures.Where(f => f.Org == org).Select(f => f.At).DefaultIfEmpty(TimeSpan.Zero).Max();
                await ledger.WaitUntilAsync(
                    () => orgs.All(org =>
                    {
                        var since = LastFailure(org) > declaredDeadAt ? LastFailure(org) : declaredDeadAt;
                        return ledger.Now - since > TimeSpan.FromSeconds(3) && ledger.Acks.Any(a => a.Org == org && a.At > since);
                    }),
                    TimeSpan.FromSeconds(60), "every org to answer again");
                await ledger.StopAsync();

                // When each org answered again for good: its first acknowledgement after its last failure.
                var recovery = orgs.Select(org => LastFailure(org) < killedAt
                    ? TimeSpan.Zero
                    : ledger.Acks.Where(a => a.Org == org && a.At > LastFailure(org)).Select(a => a.At).DefaultIfEmpty(TimeSpan.MaxValue).Min() - killedAt).Max();
                output.WriteLine($"killed silo-{victim} (hosting {hosts.Values.Count(h => h == victim)} of {orgs.Length} orgs); declared dead after {(declaredDeadAt - killedAt).TotalMilliseconds:F0} ms; " +
                                 $"every org answered again {recovery.TotalMilliseconds:F0} ms after the kill");

                await FaultRun.AssertNothingLostAsync(ledger, cluster.ApiNode(2), output, TimeSpan.FromSeconds(60));
                Assert.True(recovery < CrashRecoveryBound, $"requests succeeded again only {recovery} after the kill");
            });
        }
        finally
        {
            await ledger.StopAsync();
            // The other tests of this class share the cluster: start the victim again.
            await cluster.RestoreAsync();
        }
    }

    /// <summary>
    /// Every connection of the cluster's database terminated (pg_terminate_backend), a few times,
    /// under write load. In cluster mode a storage failure has to cross the silo-to-API-node wire:
    /// it must arrive as 503, never as a 500 for an exception type the wire cannot carry.
    /// </summary>
    [Fact]
    public async Task Terminating_every_database_connection_under_write_load_answers_only_2xx_or_503_and_loses_no_acknowledged_write()
    {
        using var node1 = cluster.Client(1);
        var orgs = await FaultRun.CreateOrgsAsync(node1, 8);
        await using var ledger = new WriteLedger([cluster.ApiNode(1), cluster.ApiNode(2)], ApiFactory.AdminToken, orgs, new WriteLedger.Options { Writers = 16 });
        ledger.Start();
        await FaultRun.WithDeadline(TimeSpan.FromSeconds(120), async () =>
        {
            await ledger.WaitForMoreAcksAsync(200, TimeSpan.FromSeconds(40), "before the first termination");
            var terminated = new List<int>();
            for (var round = 0; round < 3; round++)
            {
                terminated.Add(await TerminateBackendsAsync());
                await ledger.WaitForMoreAcksAsync(100, TimeSpan.FromSeconds(30), $"after termination {round + 1}");
            }
            await ledger.StopAsync();
            output.WriteLine($"terminated backends per round: {string.Join(", ", terminated)}");
            Assert.True(terminated.Sum() > 0, "no backend was terminated");
            await FaultRun.AssertNothingLostAsync(ledger, cluster.ApiNode(2), output, TimeSpan.FromSeconds(60));
        });
    }

    /// <summary>
    /// pg_terminate_backend for every other connection to the test database: the silos' and the API
    /// nodes' (nothing else runs while this collection does); our own idle pooled ones go too.
    /// </summary>
    private static async Task<int> TerminateBackendsAsync()
    {
        int count;
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestBackends.PostgresConnectionString) { Pooling = false }.ConnectionString))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", admin);
            count = Convert.ToInt32(await terminate.ExecuteScalarAsync());
        }
        // This process's pooled connections were terminated too (the fixture's membership queries use them).
        NpgsqlConnection.ClearAllPools();
        return count;
    }
}
