using Npgsql;

namespace Credentials.Grains.Storage.Migrations;

/// <summary>One numbered schema change: an embedded <c>NNNN-name.sql</c> file run once, in order.</summary>
public sealed record Migration(int Version, string Description, string Sql);

/// <summary>What a migration run found and did.</summary>
public sealed record MigrationReport(int From, int To, IReadOnlyList<Migration> Applied);

/// <summary>The database's schema is older than this build needs (or missing): the service refuses to start.</summary>
public sealed class SchemaTooOldException(string message) : InvalidOperationException(message);

/// <summary>
/// The PostgreSQL schema's history, applied by <c>Credentials.Api migrate</c> (and by an embedded
/// service with <c>Storage:AutoMigrate</c>). Each applied migration is a row of
/// <c>credentials_schema_version</c>. A run holds advisory locks for its whole transaction, so two
/// migrators at once apply each migration once, and a failed migration leaves nothing behind.
/// </summary>
/// <remarks>
/// Add a migration as the next <c>NNNN-name.sql</c> and a line in <see cref="All"/>. Keep it
/// additive (new tables, columns, indexes): a rolling upgrade runs the previous build against it.
/// Everything runs in one transaction, so no <c>CREATE INDEX CONCURRENTLY</c>.
/// </remarks>
public static class SchemaMigrations
{
    public const string VersionTable = "credentials_schema_version";

    // The locks the pre-migration code took around its DDL (state and membership; blobs): a
    // migration then never races an old node starting beside it during an upgrade.
    private const long StateLock = 7461827364;
    private const long BlobLock = 7461827365;

    public static IReadOnlyList<Migration> All { get; } =
    [
        Load(1, "Grain state, OrleansQuery, membership and blob tables (accepts a database made by the pre-migration code)", "0001-baseline.sql"),
        Load(2, "Blob content stored out of line and uncompressed (EXTERNAL)", "0002-blob-content-external.sql"),
        Load(3, "Grain state payloads compressed with lz4 (where the server has it)", "0003-state-payload-lz4.sql"),
    ];

    /// <summary>The version this build needs: its newest migration. A newer database is fine.</summary>
    public static int Required => All[^1].Version;

    private static Migration Load(int version, string description, string file)
    {
        using var stream = typeof(SchemaMigrations).Assembly.GetManifestResourceStream("Migrations." + file)
            ?? throw new InvalidOperationException($"Migration {file} is not embedded in {typeof(SchemaMigrations).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return new Migration(version, description, reader.ReadToEnd());
    }

    /// <summary>
    /// Applies every migration newer than the database, up to <paramref name="target"/> (default:
    /// all of <paramref name="migrations"/>, default <see cref="All"/>). Needs a role with DDL rights.
    /// </summary>
    public static async Task<MigrationReport> ApplyAsync(
        string connectionString, CancellationToken cancellationToken, IReadOnlyList<Migration>? migrations = null, int? target = null)
    {
        migrations ??= All;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, $"""
            SELECT pg_advisory_xact_lock({StateLock});
            SELECT pg_advisory_xact_lock({BlobLock});
            CREATE TABLE IF NOT EXISTS {VersionTable}
            (
                version     integer NOT NULL PRIMARY KEY,
                description text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                applied_by  text NOT NULL DEFAULT current_user
            );
            """, cancellationToken);
        var from = await ReadVersionAsync(connection, transaction, cancellationToken) ?? 0;
        var applied = new List<Migration>();
        foreach (var migration in migrations.Where(m => m.Version > from && m.Version <= (target ?? int.MaxValue)).OrderBy(m => m.Version))
        {
            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
            await using var record = new NpgsqlCommand($"INSERT INTO {VersionTable} (version, description) VALUES (@version, @description)", connection, transaction);
            record.Parameters.AddWithValue("version", migration.Version);
            record.Parameters.AddWithValue("description", migration.Description);
            await record.ExecuteNonQueryAsync(cancellationToken);
            applied.Add(migration);
        }
        await transaction.CommitAsync(cancellationToken);
        return new MigrationReport(from, applied.Count > 0 ? applied[^1].Version : from, applied);
    }

    /// <summary>The database's schema version without DDL: null when it has never been migrated.</summary>
    public static async Task<int?> ReadVersionAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return await ReadVersionAsync(connection, null, cancellationToken);
    }

    /// <summary>Fails with a message naming the versions and the command to run when the database is older than <paramref name="required"/>.</summary>
    public static async Task RequireAsync(string connectionString, CancellationToken cancellationToken, int? required = null)
    {
        var needed = required ?? Required;
        var found = await ReadVersionAsync(connectionString, cancellationToken);
        if (found >= needed) return;
        throw new SchemaTooOldException(found is null
            ? $"database schema is missing (no {VersionTable} table), this build needs version {needed}: run `Credentials.Api migrate`"
            : $"database schema is at version {found}, this build needs {needed}: run `Credentials.Api migrate`");
    }

    private static async Task<int?> ReadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        // to_regclass answers null for a missing table instead of failing the transaction.
        await using var command = new NpgsqlCommand(
            $"SELECT CASE WHEN to_regclass('{VersionTable}') IS NULL THEN -1 ELSE 0 END", connection, transaction);
        if ((int)(await command.ExecuteScalarAsync(cancellationToken))! < 0) return null;
        await using var max = new NpgsqlCommand($"SELECT COALESCE(max(version), 0) FROM {VersionTable}", connection, transaction);
        return (int)(await max.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        // A migration may rewrite a large table: no command timeout, the caller's token stops it.
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
