using System.Diagnostics;
using System.Net;
using Credentials.Tests.Infrastructure;
using Npgsql;

namespace Credentials.Tests.Deploy;

/// <summary>
/// API readiness (docs/operations.md, "Probes"): a database that stops answering degrades the API
/// but does not take it out of its Service while the cluster answers, since reads still come from
/// grain memory; once the database is back, the API reports healthy again.
/// </summary>
public sealed class ReadinessTests : IAsyncLifetime
{
    private readonly string _database = "ready_" + Guid.NewGuid().ToString("N")[..12];

    public Task InitializeAsync() => TestBackends.CreateDatabaseAsync(_database);

    public async Task DisposeAsync()
    {
        await AdminAsync($"ALTER DATABASE {_database} WITH ALLOW_CONNECTIONS true");
        await TestBackends.DropDatabaseAsync(_database);
    }

    [Fact]
    public async Task A_database_outage_keeps_the_api_ready_while_reads_come_from_memory()
    {
        await using var factory = new ApiFactory(Backend.Sqlite);
        factory.Settings["ConnectionStrings:PostgreSql"] = new NpgsqlConnectionStringBuilder(TestBackends.PostgresConnectionString) { Database = _database }.ConnectionString;
        var client = factory.AdminClient();
        var org = await client.CreatePlatformAsync();
        await client.CreateIssuerAsync(org, new { name = "Read from memory" });
        Assert.Equal("Healthy", await ReadyBodyAsync(client, body => body == "Healthy", "healthy before the outage"));

        // The database refuses every new connection and loses the ones it had.
        await AdminAsync($"ALTER DATABASE {_database} WITH ALLOW_CONNECTIONS false");
        await AdminAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{_database}' AND pid <> pg_backend_pid()");

        var degraded = await ReadyBodyAsync(client, body => body.StartsWith("Degraded", StringComparison.Ordinal), "degraded during the outage");
        Assert.Contains("database", degraded);
        var list = await client.GetAsync(TestRequests.Issuers(org));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains("Read from memory", await list.Content.ReadAsStringAsync());

        await AdminAsync($"ALTER DATABASE {_database} WITH ALLOW_CONNECTIONS true");
        await ReadyBodyAsync(client, body => body == "Healthy", "healthy after the outage");
    }

    /// <summary>Polls /readyz until its body matches; every answer on the way must be 200.</summary>
    private static async Task<string> ReadyBodyAsync(HttpClient client, Func<string, bool> wanted, string what)
    {
        var clock = Stopwatch.StartNew();
        var body = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            using var response = await client.GetAsync("/readyz");
            body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"/readyz answered {(int)response.StatusCode}: {body}");
            if (wanted(body)) return body;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"/readyz was not {what} within 30 s (last: {body})");
    }

    private static async Task AdminAsync(string sql)
    {
        await using var admin = new NpgsqlConnection(TestBackends.PostgresConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync();
    }
}
