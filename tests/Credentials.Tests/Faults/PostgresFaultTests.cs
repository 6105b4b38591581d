using Credentials.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Credentials.Tests.Faults;

/// <summary>
/// The embedded service on PostgreSQL (a database of its own on the test server) while every one
/// of its database connections is terminated, several times, under write load: writes in flight
/// may be refused with 503, none acknowledged is lost, and the service recovers on its own. A
/// restart afterwards proves the acknowledged writes are in the database, not only in memory.
/// </summary>
/// <remarks>A restart of the PostgreSQL server itself is in bench/faults.sh: the test server is shared.</remarks>
[Trait("Category", "Fault")]
public sealed class PostgresFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Rounds = 4;
    private readonly string _database = "faults_" + Guid.NewGuid().ToString("N")[..12];

    public async Task InitializeAsync()
    {
        await TestBackends.CreateDatabaseAsync(_database);
    }

    public Task DisposeAsync() => TestBackends.DropDatabaseAsync(_database);

    [Fact]
    public async Task Terminating_every_database_connection_under_write_load_loses_no_acknowledged_write()
    {
        // Pooling on, as in production: the pool holds connections the server has killed.
        var connectionString = new NpgsqlConnectionStringBuilder(TestBackends.PostgresConnectionString) { Database = _database, Pooling = true }.ConnectionString;
        await using var service = new ServiceProcess(connectionString);
        var ledgers = new List<WriteLedger>();
        try
        {
            await FaultRun.WithDeadline(TimeSpan.FromSeconds(240), async () =>
            {
                await service.StartAsync(TimeSpan.FromSeconds(60));
                using var admin = new HttpClient { BaseAddress = service.BaseAddress };
                admin.DefaultRequestHeaders.Authorization = new("Api-Token", ApiFactory.AdminToken);
                var orgs = await FaultRun.CreateOrgsAsync(admin, 5);

                // A mixed load over four orgs, and one hot org whose group commits batch dozens of
                // writes, so a failed batch may open a chunk with another batch queued behind it.
                var mixed = new WriteLedger([service.BaseAddress], ApiFactory.AdminToken, orgs[..4], new WriteLedger.Options { Writers = 16 });
                var hot = new WriteLedger([service.BaseAddress], ApiFactory.AdminToken, orgs[4..], new WriteLedger.Options { Writers = 96, ImageEvery = 0 });
                ledgers.AddRange([mixed, hot]);
                ledgers.ForEach(l => l.Start());
                await mixed.WaitForMoreAcksAsync(200, TimeSpan.FromSeconds(40), "before the first termination");

                var terminated = new List<int>();
                for (var round = 0; round < Rounds; round++)
                {
                    terminated.Add(await TerminateBackendsAsync());
                    // The service must come back by itself before the next round.
                    await Task.WhenAll(
                        mixed.WaitForMoreAcksAsync(100, TimeSpan.FromSeconds(30), $"after termination {round + 1}"),
                        hot.WaitForMoreAcksAsync(200, TimeSpan.FromSeconds(30), $"to the hot org after termination {round + 1}"));
                }
                foreach (var ledger in ledgers) await ledger.StopAsync();
                output.WriteLine($"terminated backends per round: {string.Join(", ", terminated)}");
                Assert.True(terminated.Sum() > 0, "no backend of the service's database was terminated");

                foreach (var ledger in ledgers) await FaultRun.AssertNothingLostAsync(ledger, service.BaseAddress, output, TimeSpan.FromSeconds(30));

                // What the grains hold in memory could hide a write storage never got: read it all again from the database.
                await service.StopAsync(TimeSpan.FromSeconds(30));
                await service.StartAsync(TimeSpan.FromSeconds(60));
                foreach (var ledger in ledgers)
                {
                    var afterRestart = await ledger.VerifyAsync(service.BaseAddress, TimeSpan.FromSeconds(30));
                    output.WriteLine("after a restart: " + afterRestart);
                    Assert.True(afterRestart.Lost.Count == 0, "after a restart: " + afterRestart);
                }
            });
        }
        finally
        {
            foreach (var ledger in ledgers) await ledger.DisposeAsync();
        }
    }

    /// <summary>pg_terminate_backend for every connection to the service's database; returns how many.</summary>
    private async Task<int> TerminateBackendsAsync()
    {
        await using var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestBackends.PostgresConnectionString) { Pooling = false }.ConnectionString);
        await admin.OpenAsync();
        await using var terminate = new NpgsqlCommand(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @database AND pid <> pg_backend_pid()", admin);
        terminate.Parameters.AddWithValue("database", _database);
        return Convert.ToInt32(await terminate.ExecuteScalarAsync());
    }
}
