using System.Net;
using Credentials.Grains.Storage;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;

namespace Credentials.Tests.Cluster;

/// <summary>
/// Our PostgreSQL membership SQL, driven through Microsoft.Orleans.Clustering.AdoNet's own table and
/// gateway list provider: the optimistic table version, row reads, heartbeats, gateways, clean-up.
/// Each test uses its own cluster id in the shared database.
/// </summary>
public sealed class MembershipTableTests
{
    private readonly string _clusterId = TestBackends.NewServiceId();

    private async Task<AdoNetClusteringTable> TableAsync(bool initVersion = true)
    {
        await new PostgreSqlStorage(TestBackends.PostgresConnectionString).EnsureSchemaAsync(CancellationToken.None);
        var table = new AdoNetClusteringTable(
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new ClusterOptions { ClusterId = _clusterId, ServiceId = _clusterId }),
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = "Npgsql", ConnectionString = TestBackends.PostgresConnectionString }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await table.InitializeMembershipTableAsync(initVersion);
        return table;
    }

    private static MembershipEntry Silo(int port, SiloStatus status = SiloStatus.Active, int generation = 1) => new()
    {
        SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), generation),
        SiloName = $"silo-{port}",
        HostName = "test-host",
        Status = status,
        ProxyPort = port + 1000,
        StartTime = DateTime.UtcNow.AddMinutes(-1),
        IAmAliveTime = DateTime.UtcNow,
    };

    [Fact]
    public async Task Schema_creation_is_idempotent_when_many_silos_start_at_once()
    {
        var storage = new PostgreSqlStorage(TestBackends.PostgresConnectionString);
        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => storage.EnsureSchemaAsync(CancellationToken.None)));
        await storage.EnsureSchemaAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_new_cluster_starts_empty_at_version_zero()
    {
        var table = await TableAsync();
        var data = await table.ReadAllAsync();
        Assert.Empty(data.Members);
        Assert.Equal(0, data.Version.Version);

        // A second silo's start finds the version row there and leaves it alone.
        var again = await TableAsync();
        Assert.Equal(0, (await again.ReadAllAsync()).Version.Version);
    }

    [Fact]
    public async Task A_silo_joins_only_with_the_current_table_version_and_only_once()
    {
        var table = await TableAsync();
        var version = (await table.ReadAllAsync()).Version;
        var entry = Silo(11111);

        Assert.True(await table.InsertRowAsync(entry, version.Next()));
        Assert.False(await table.InsertRowAsync(Silo(11112), version.Next()));            // stale version
        var current = (await table.ReadAllAsync()).Version;
        Assert.Equal(1, current.Version);
        Assert.False(await table.InsertRowAsync(entry, current.Next()));                 // already a member
        Assert.Equal(1, (await table.ReadAllAsync()).Version.Version);                   // and nothing moved

        var (read, etag) = Assert.Single((await table.ReadRowAsync(entry.SiloAddress)).Members);
        Assert.Equal(entry.SiloAddress, read.SiloAddress);
        Assert.Equal("silo-11111", read.SiloName);
        Assert.Equal("test-host", read.HostName);
        Assert.Equal(SiloStatus.Active, read.Status);
        Assert.Equal(12111, read.ProxyPort);
        Assert.Equal(entry.StartTime, read.StartTime, TimeSpan.FromMilliseconds(1));
        Assert.Equal(entry.IAmAliveTime, read.IAmAliveTime, TimeSpan.FromMilliseconds(1));
        Assert.Equal(current.VersionEtag, etag);
    }

    [Fact]
    public async Task Two_silos_racing_on_one_version_cannot_both_win()
    {
        var table = await TableAsync();
        var version = (await table.ReadAllAsync()).Version;

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => table.InsertRowAsync(Silo(20000 + i), version.Next())));

        Assert.Single(results, won => won);
        var data = await table.ReadAllAsync();
        Assert.Single(data.Members);
        Assert.Equal(1, data.Version.Version);
    }

    [Fact]
    public async Task A_status_change_needs_the_current_version_and_keeps_the_death_votes()
    {
        var table = await TableAsync();
        var first = Silo(11111);
        var second = Silo(11112);
        Assert.True(await table.InsertRowAsync(first, (await table.ReadAllAsync()).Version.Next()));
        var stale = await table.ReadAllAsync();
        Assert.True(await table.InsertRowAsync(second, stale.Version.Next()));
        var read = await table.ReadAllAsync();

        var (entry, etag) = read.Members.Single(m => m.Item1.SiloAddress.Equals(first.SiloAddress));
        entry.Status = SiloStatus.Dead;
        var votedAt = DateTime.UtcNow;
        entry.AddOrUpdateSuspector(second.SiloAddress, votedAt, 2);
        var (staleEntry, staleEtag) = stale.Members.Single();
        staleEntry.Status = SiloStatus.ShuttingDown;
        Assert.False(await table.UpdateRowAsync(staleEntry, staleEtag, stale.Version.Next()));   // another change came first
        Assert.True(await table.UpdateRowAsync(entry, etag, read.Version.Next()));
        Assert.False(await table.UpdateRowAsync(entry, etag, read.Version.Next()));              // that version is used up

        var (dead, _) = Assert.Single((await table.ReadRowAsync(first.SiloAddress)).Members);
        Assert.Equal(SiloStatus.Dead, dead.Status);
        var (suspector, time) = Assert.Single(dead.SuspectTimes ?? []);
        Assert.Equal(second.SiloAddress, suspector);
        Assert.Equal(votedAt, time, TimeSpan.FromSeconds(1));
        Assert.Equal(3, (await table.ReadAllAsync()).Version.Version);
    }

    [Fact]
    public async Task A_heartbeat_moves_the_alive_time_but_not_the_table_version()
    {
        var table = await TableAsync();
        var entry = Silo(11111);
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));

        entry.IAmAliveTime = DateTime.UtcNow.AddSeconds(30);
        await table.UpdateIAmAliveAsync(entry);

        var data = await table.ReadAllAsync();
        Assert.Equal(1, data.Version.Version);
        Assert.Equal(entry.IAmAliveTime, Assert.Single(data.Members).Item1.IAmAliveTime, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task Clients_see_the_gateways_of_active_silos_only()
    {
        var table = await TableAsync();
        foreach (var (port, status) in new[] { (11111, SiloStatus.Active), (11112, SiloStatus.Joining), (11113, SiloStatus.Dead), (11114, SiloStatus.Active) })
        {
            Assert.True(await table.InsertRowAsync(Silo(port, status), (await table.ReadAllAsync()).Version.Next()));
        }
        var provider = new AdoNetGatewayListProvider(
            NullLogger<AdoNetGatewayListProvider>.Instance,
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new AdoNetClusteringClientOptions { Invariant = "Npgsql", ConnectionString = TestBackends.PostgresConnectionString }),
            Options.Create(new GatewayOptions()),
            Options.Create(new ClusterOptions { ClusterId = _clusterId, ServiceId = _clusterId }));
        await provider.InitializeGatewayListProviderAsync();

        var gateways = await provider.GetGatewaysAsync();

        Assert.Equal(
            new[] { "gwy.tcp://127.0.0.1:12111/1", "gwy.tcp://127.0.0.1:12114/1" },
            gateways.Select(g => g.ToString()).Order());
    }

    [Fact]
    public async Task Clean_up_removes_long_silent_silos_that_are_not_active()
    {
        var table = await TableAsync();
        var old = DateTime.UtcNow.AddDays(-10);
        var silentDead = Silo(11111, SiloStatus.Dead);
        silentDead.IAmAliveTime = old;
        var silentActive = Silo(11112, SiloStatus.Active);
        silentActive.IAmAliveTime = old;
        var recentDead = Silo(11113, SiloStatus.Dead);
        foreach (var entry in new[] { silentDead, silentActive, recentDead })
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        }

        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddDays(-7));

        Assert.Equal(
            new[] { silentActive.SiloAddress, recentDead.SiloAddress }.Select(a => a.ToString()).Order(),
            (await table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress.ToString()).Order());
    }

    [Fact]
    public async Task Deleting_a_cluster_removes_its_rows_and_leaves_other_clusters_alone()
    {
        var table = await TableAsync();
        var other = new MembershipTableTests();
        var otherTable = await other.TableAsync();
        Assert.True(await table.InsertRowAsync(Silo(11111), (await table.ReadAllAsync()).Version.Next()));
        Assert.True(await otherTable.InsertRowAsync(Silo(11111), (await otherTable.ReadAllAsync()).Version.Next()));

        await table.DeleteMembershipTableEntriesAsync(_clusterId);

        Assert.Single((await otherTable.ReadAllAsync()).Members);
        var restarted = await TableAsync();
        Assert.Empty((await restarted.ReadAllAsync()).Members);
    }
}
