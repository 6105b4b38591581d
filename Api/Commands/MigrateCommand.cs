using Credentials.Grains.Hosting;
using Credentials.Grains.Storage;
using Credentials.Grains.Storage.Migrations;
using Npgsql;

namespace Credentials.Api.Commands;

/// <summary>
/// <c>Credentials.Api migrate</c>: brings the PostgreSQL schema to this build's version and stores
/// the Orleans providers' queries. Reads the service's own settings; <c>Storage:MigrationConnectionString</c>
/// (a role with DDL rights) wins over <c>ConnectionStrings:PostgreSql</c>. Safe to run twice or
/// from two places at once. Exit codes: 0 done (or nothing to do), 1 failed.
/// </summary>
public static class MigrateCommand
{
    public static async Task<int> RunAsync(IConfiguration configuration, TextWriter output, CancellationToken ct)
    {
        StorageSettings settings;
        try
        {
            settings = StorageSettings.From(configuration);
        }
        catch (InvalidOperationException ex)
        {
            await output.WriteLineAsync(ex.Message);
            return 1;
        }
        var connectionString = settings.MigrationConnectionString is { Length: > 0 } migration ? migration : settings.PostgreSql;
        if (connectionString is null)
        {
            await output.WriteLineAsync(
                $"No PostgreSQL configured (ConnectionStrings:PostgreSql or Storage:MigrationConnectionString): the SQLite database under '{settings.DataDirectory}' creates its schema when the service starts. Nothing to migrate.");
            return 0;
        }

        MigrationReport report;
        try
        {
            report = await new PostgreSqlStorage(connectionString).MigrateAsync(ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or ArgumentException)
        {
            await output.WriteLineAsync($"Migration failed, nothing was changed: {ex.Message}");
            return 1;
        }

        foreach (var applied in report.Applied)
        {
            await output.WriteLineAsync($"  applied {applied.Version}: {applied.Description}");
        }
        await output.WriteLineAsync(report switch
        {
            { Applied.Count: > 0 } => $"Database schema migrated from version {report.From} to {report.To}.",
            _ when report.From > SchemaMigrations.Required =>
                $"Database schema is at version {report.From}, newer than this build's {SchemaMigrations.Required}: nothing to do.",
            _ => $"Database schema is at version {report.From}, up to date.",
        });
        return 0;
    }
}
