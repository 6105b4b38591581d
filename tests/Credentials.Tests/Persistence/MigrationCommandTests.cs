using Credentials.Api.Commands;
using Credentials.Grains.Storage.Migrations;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Credentials.Tests.Persistence;

/// <summary><c>Credentials.Api migrate</c>: what it prints, which connection it uses, how it fails.</summary>
public sealed class MigrationCommandTests : IAsyncLifetime
{
    private MigrationDatabase _database = null!;

    public async Task InitializeAsync() => _database = await MigrationDatabase.CreateAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    private static async Task<(int Code, string Output)> RunAsync(params (string Key, string? Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, s.Value))).Build();
        var output = new StringWriter();
        var code = await MigrateCommand.RunAsync(configuration, output, CancellationToken.None);
        return (code, output.ToString());
    }

    [Fact]
    public async Task Migrate_prints_the_versions_it_moved_between_and_the_second_run_says_up_to_date()
    {
        var (code, output) = await RunAsync(("ConnectionStrings:PostgreSql", _database.ConnectionString));

        Assert.Equal(0, code);
        Assert.Contains($"from version 0 to {SchemaMigrations.Required}", output);
        Assert.All(SchemaMigrations.All, m => Assert.Contains($"applied {m.Version}: {m.Description}", output));

        var (again, second) = await RunAsync(("ConnectionStrings:PostgreSql", _database.ConnectionString));

        Assert.Equal(0, again);
        Assert.Contains($"at version {SchemaMigrations.Required}, up to date", second);
    }

    [Fact]
    public async Task Migrate_uses_Storage_MigrationConnectionString_over_the_service_connection()
    {
        await _database.CreateRolesAsync();

        var (code, output) = await RunAsync(
            ("ConnectionStrings:PostgreSql", _database.AppConnectionString),
            ("Storage:MigrationConnectionString", _database.MigratorConnectionString));

        Assert.True(code == 0, output);
        Assert.Equal("test_migrator_" + _database.Name["migration_".Length..], await _database.ScalarAsync("SELECT applied_by FROM credentials_schema_version WHERE version = 1"));
    }

    [Fact]
    public async Task Migrate_with_a_role_without_DDL_rights_fails_and_changes_nothing()
    {
        await _database.CreateRolesAsync();

        var (code, output) = await RunAsync(("ConnectionStrings:PostgreSql", _database.AppConnectionString));

        Assert.Equal(1, code);
        Assert.Contains("Migration failed", output);
        Assert.Contains("permission denied", output);
        Assert.False(await _database.HasTableAsync("credentials_schema_version"));
    }

    [Fact]
    public async Task Migrate_against_an_unreachable_server_fails_with_exit_code_1()
    {
        var unreachable = $"Host=127.0.0.1;Port={TestBackends.FreePort()};Username=x;Password=y;Timeout=2";

        var (code, output) = await RunAsync(("ConnectionStrings:PostgreSql", unreachable));

        Assert.Equal(1, code);
        Assert.Contains("Migration failed", output);
    }

    [Fact]
    public async Task Migrate_without_PostgreSQL_says_SQLite_creates_its_own_schema()
    {
        var (code, output) = await RunAsync(("Storage:DataDirectory", TestBackends.NewTempDirectory()));

        Assert.Equal(0, code);
        Assert.Contains("Nothing to migrate", output);
    }

    [Fact]
    public async Task The_operator_command_line_dispatches_migrate()
    {
        var code = await OperatorCommands.RunAsync(["migrate", $"--ConnectionStrings:PostgreSql={_database.ConnectionString}"]);

        Assert.Equal(0, code);
        Assert.Equal(SchemaMigrations.Required, await SchemaMigrations.ReadVersionAsync(_database.ConnectionString, CancellationToken.None));
    }
}
