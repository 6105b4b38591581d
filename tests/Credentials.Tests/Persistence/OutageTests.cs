using System.Net;
using System.Net.Http.Json;
using Credentials.Tests.Infrastructure;
using Npgsql;

namespace Credentials.Tests.Persistence;

/// <summary>When the database refuses writes, the API says 503 with Retry-After and acknowledges nothing.</summary>
public sealed class OutageTests : IAsyncLifetime
{
    private readonly string _database = "outage_" + Guid.NewGuid().ToString("N")[..12];
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        await TestBackends.CreateDatabaseAsync(_database);
        _connectionString = new NpgsqlConnectionStringBuilder(TestBackends.PostgresConnectionString) { Database = _database, Pooling = false }.ConnectionString;
    }

    public Task DisposeAsync() => TestBackends.DropDatabaseAsync(_database);

    [Fact]
    public async Task A_write_the_database_refuses_is_a_503_with_Retry_After_and_is_not_acknowledged()
    {
        await using var factory = new ApiFactory(Backend.Sqlite);
        factory.Settings["ConnectionStrings:PostgreSql"] = _connectionString;
        var client = factory.AdminClient();
        var org = await client.CreatePlatformAsync();
        await client.CreateIssuerAsync(org, new { name = "Before the outage" });

        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            // The state table disappears: every write from now on fails in the database.
            await using var drop = new NpgsqlCommand("ALTER TABLE credentials_grain_state RENAME TO credentials_grain_state_away", connection);
            await drop.ExecuteNonQueryAsync();
        }

        var refused = await client.PostAsJsonAsync(TestRequests.Issuers(org), new { name = "During the outage" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        var problem = await refused.ProblemAsync();
        Assert.DoesNotContain("Npgsql", problem.ToJsonString());

        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            await using var restore = new NpgsqlCommand("ALTER TABLE credentials_grain_state_away RENAME TO credentials_grain_state", connection);
            await restore.ExecuteNonQueryAsync();
        }

        // The grain reloads from storage: the refused write is not there, the earlier one is.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpResponseMessage list;
        do
        {
            list = await client.GetAsync(TestRequests.Issuers(org));
            if (list.StatusCode == HttpStatusCode.OK) break;
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        var names = (await list.JsonAsync())["result"]!["data"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()).ToArray();
        Assert.Equal(["Before the outage"], names);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync(TestRequests.Issuers(org), new { name = "After the outage" })).StatusCode);
    }
}
