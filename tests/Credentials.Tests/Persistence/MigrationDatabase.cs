using Credentials.Tests.Cluster;
using Credentials.Tests.Infrastructure;
using Npgsql;

namespace Credentials.Tests.Persistence;

/// <summary>
/// A database of one test's own on the test server, optionally with the two roles of
/// <c>deploy/postgres/roles.sql</c> (a migrator with DDL rights, an app role without); dropped with them.
/// </summary>
public sealed class MigrationDatabase : IAsyncDisposable
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];
    private readonly List<string> _roles = [];

    private MigrationDatabase() => Name = "migration_" + _suffix;

    public string Name { get; }

    /// <summary>The test server's superuser, connected to this database.</summary>
    public string ConnectionString => As(null, null);

    public string MigratorConnectionString { get; private set; } = "";

    public string AppConnectionString { get; private set; } = "";

    public static async Task<MigrationDatabase> CreateAsync()
    {
        var database = new MigrationDatabase();
        await TestBackends.CreateDatabaseAsync(database.Name);
        return database;
    }

    private string As(string? user, string? password)
    {
        var builder = new NpgsqlConnectionStringBuilder(TestBackends.PostgresConnectionString) { Database = Name, Pooling = false };
        if (user is not null) (builder.Username, builder.Password) = (user, password);
        return builder.ConnectionString;
    }

    /// <summary>Runs the shipped roles script as psql would, with this test's role names and passwords.</summary>
    public async Task CreateRolesAsync()
    {
        var (migrator, app) = ($"test_migrator_{_suffix}", $"test_app_{_suffix}");
        var password = Guid.NewGuid().ToString("N");
        var script = (await File.ReadAllTextAsync(Path.Combine(LocalClusterFixture.RepositoryRoot, "deploy", "postgres", "roles.sql")))
            .Replace(":\"migrator_role\"", $"\"{migrator}\"").Replace(":'migrator_password'", $"'{password}'")
            .Replace(":\"app_role\"", $"\"{app}\"").Replace(":'app_password'", $"'{password}'");
        _roles.AddRange([migrator, app]);
        await ExecuteAsync(ConnectionString, script);
        MigratorConnectionString = As(migrator, password);
        AppConnectionString = As(app, password);
    }

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public async Task<bool> HasTableAsync(string table) => (bool)(await ScalarAsync($"SELECT to_regclass('{table}') IS NOT NULL"))!;

    public async ValueTask DisposeAsync()
    {
        await TestBackends.DropDatabaseAsync(Name);
        foreach (var role in _roles)
        {
            await using var admin = new NpgsqlConnection(TestBackends.PostgresConnectionString);
            await admin.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP ROLE IF EXISTS \"{role}\"", admin);
            await command.ExecuteNonQueryAsync();
        }
    }
}
