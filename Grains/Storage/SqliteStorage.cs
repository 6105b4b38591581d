using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Credentials.Grains.Storage;

/// <summary>
/// SQLite on local disk: the embedded default, no server to install. Orleans' AdoNet provider
/// loads Microsoft.Data.Sqlite for the invariant "System.Data.SQLite". WAL journaling with the
/// default synchronous=FULL makes every acknowledged commit survive a crash of the process.
/// </summary>
public sealed class SqliteStorage(string connectionString) : StorageBackend(connectionString)
{
    public override string Invariant => "System.Data.SQLite";
    public override string Name => "sqlite";
    public override bool SingleWriter => true;

    /// <summary>The data folder, when the database lives in one; blobs are kept beside it.</summary>
    public string? DataDirectory { get; private init; }

    public static SqliteStorage InDirectory(string directory)
    {
        Directory.CreateDirectory(directory);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(Path.GetFullPath(directory), "credentials.db"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        };
        return new SqliteStorage(builder.ToString()) { DataDirectory = Path.GetFullPath(directory) };
    }

    public override DbConnection CreateConnection() => new SqliteConnection(ConnectionString);

    private const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS OrleansQuery
        (
            QueryKey TEXT NOT NULL PRIMARY KEY,
            QueryText TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS credentials_grain_state
        (
            service_id  TEXT NOT NULL,
            state_name  TEXT NOT NULL,
            grain_n0    INTEGER NOT NULL,
            grain_n1    INTEGER NOT NULL,
            grain_key   TEXT NOT NULL,
            payload     BLOB NULL,
            version     INTEGER NOT NULL,
            modified_on TEXT NOT NULL,
            PRIMARY KEY (service_id, state_name, grain_n0, grain_n1, grain_key)
        ) WITHOUT ROWID;
        """;

    private const string KeyMatch = """
        service_id = @ServiceId AND state_name = @GrainTypeString
        AND grain_n0 = @GrainIdN0 AND grain_n1 = @GrainIdN1
        AND grain_key = COALESCE(@GrainIdExtensionString, '')
        """;

    /// <summary>
    /// The second statement reports the new version, or the caller's version unchanged when the
    /// optimistic check failed, which the provider turns into an InconsistentStateException.
    /// Clearing deletes the row (compaction empties chunks; a row left with no payload would still be read).
    /// </summary>
    private static readonly Dictionary<string, string> Queries = new()
    {
        ["WriteToStorageKey"] = $"""
            INSERT INTO credentials_grain_state
                (service_id, state_name, grain_n0, grain_n1, grain_key, payload, version, modified_on)
            VALUES (@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
                    COALESCE(@GrainIdExtensionString, ''), @PayloadBinary, 1, datetime('now'))
            ON CONFLICT (service_id, state_name, grain_n0, grain_n1, grain_key) DO UPDATE
                SET payload = excluded.payload, version = version + 1, modified_on = excluded.modified_on
                WHERE version = @GrainStateVersion;
            SELECT CASE WHEN changes() > 0
                        THEN (SELECT version FROM credentials_grain_state WHERE {KeyMatch})
                        ELSE @GrainStateVersion END AS NewGrainStateVersion;
            """,
        ["ReadFromStorageKey"] = $"""
            SELECT payload AS PayloadBinary, version AS Version
            FROM credentials_grain_state
            WHERE {KeyMatch};
            """,
        ["ClearStorageKey"] = $"""
            DELETE FROM credentials_grain_state
            WHERE {KeyMatch} AND version = @GrainStateVersion;
            SELECT CASE WHEN changes() > 0 THEN @GrainStateVersion + 1 ELSE @GrainStateVersion END AS NewGrainStateVersion;
            """,
    };

    // Keys compare byte-wise (BINARY collation), so a prefix is a primary-key range.
    protected override (string Write, string Clear) RowQueries => (Queries["WriteToStorageKey"], Queries["ClearStorageKey"]);

    protected override (string, (string, object)[]) ChunkPrefixMatch(string serviceId, string prefix) => (
        "service_id = @service AND state_name = @state AND grain_n0 = 0 AND grain_n1 = 0 AND grain_key >= @low AND grain_key < @high",
        [("service", serviceId), ("state", ChunkStore.StateName), ("low", prefix), ("high", prefix[..^1] + (char)(prefix[^1] + 1))]);

    public override async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, null, Schema, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await UpsertQueriesAsync(connection, transaction, Queries, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
