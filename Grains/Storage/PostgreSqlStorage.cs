using Credentials.Grains.Membership;
using Credentials.Grains.Storage.Migrations;
using System.Data.Common;
using Npgsql;

namespace Credentials.Grains.Storage;

/// <summary>
/// PostgreSQL: the cluster backend. The schema and the queries are ours, written for the contract
/// of Microsoft.Orleans.Persistence.AdoNet 10.4 (its OrleansQuery keys, parameter names and
/// result columns); we use one row per (service, state name, grain key) and the provider's version
/// column for optimistic concurrency.
/// </summary>
public sealed class PostgreSqlStorage(string connectionString) : StorageBackend(connectionString)
{
    public override string Invariant => "Npgsql";
    public override string Name => "postgresql";

    public override DbConnection CreateConnection() => new NpgsqlConnection(ConnectionString);

    /// <summary>The blob store's connection string: its own pool (<c>Storage:BlobMaxPoolSize</c>).</summary>
    public string BlobConnectionString { get; init; } = connectionString;

    private const string KeyMatch = """
        service_id = @ServiceId AND state_name = @GrainTypeString
        AND grain_n0 = @GrainIdN0 AND grain_n1 = @GrainIdN1
        AND grain_key = COALESCE(CAST(@GrainIdExtensionString AS varchar), '')
        """;

    /// <summary>
    /// The provider treats "same version back" (or null back for a new row) as a conflict. Clearing
    /// deletes the row (compaction empties chunks; a row left with no payload would still be read).
    /// </summary>
    private static readonly Dictionary<string, string> Queries = new()
    {
        ["WriteToStorageKey"] = """
            WITH written AS (
                INSERT INTO credentials_grain_state AS s
                    (service_id, state_name, grain_n0, grain_n1, grain_key, payload, version, modified_on)
                VALUES (@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
                        COALESCE(CAST(@GrainIdExtensionString AS varchar), ''), @PayloadBinary, 1, now())
                ON CONFLICT (service_id, state_name, grain_n0, grain_n1, grain_key) DO UPDATE
                    SET payload = excluded.payload, version = s.version + 1, modified_on = excluded.modified_on
                    WHERE s.version = CAST(@GrainStateVersion AS integer)
                RETURNING s.version)
            SELECT COALESCE((SELECT version FROM written), CAST(@GrainStateVersion AS integer)) AS "NewGrainStateVersion";
            """,
        ["ReadFromStorageKey"] = $"""
            SELECT payload AS "PayloadBinary", version AS "Version"
            FROM credentials_grain_state
            WHERE {KeyMatch};
            """,
        ["ClearStorageKey"] = $"""
            WITH deleted AS (
                DELETE FROM credentials_grain_state
                WHERE {KeyMatch} AND version = CAST(@GrainStateVersion AS integer)
                RETURNING version)
            SELECT COALESCE((SELECT version + 1 FROM deleted), CAST(@GrainStateVersion AS integer)) AS "NewGrainStateVersion";
            """,
    };

    /// <summary>As <see cref="Blobs.PostgreSqlBlobStore"/> stores a blob: the first bytes of a hash stay.</summary>
    protected override string BlobInsert =>
        "INSERT INTO credentials_blobs (service_id, org, sha256, content) VALUES (@service, @org, @sha, @content) ON CONFLICT (service_id, org, sha256) DO NOTHING";

    protected override (string Write, string Clear) RowQueries => (Queries["WriteToStorageKey"], Queries["ClearStorageKey"]);

    protected override (string, (string, object)[]) ChunkPrefixMatch(string serviceId, string prefix) => (
        "service_id = @service AND state_name = @state AND grain_key LIKE @pattern",
        [("service", serviceId), ("state", ChunkStore.StateName), ("pattern", LikePrefix(prefix))]);

    private static string LikePrefix(string prefix) =>
        prefix.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal) + "%";

    /// <summary>Applies pending migrations (DDL: <see cref="SchemaMigrations"/>), then stores this build's queries.</summary>
    public async Task<MigrationReport> MigrateAsync(CancellationToken cancellationToken)
    {
        var report = await SchemaMigrations.ApplyAsync(ConnectionString, cancellationToken);
        await WriteQueriesAsync(cancellationToken);
        return report;
    }

    public override Task EnsureSchemaAsync(CancellationToken cancellationToken) => MigrateAsync(cancellationToken);

    /// <summary>No DDL: refuses a schema older than this build needs, then stores this build's queries (rows, not schema).</summary>
    public override async Task VerifySchemaAsync(CancellationToken cancellationToken)
    {
        await SchemaMigrations.RequireAsync(ConnectionString, cancellationToken);
        await WriteQueriesAsync(cancellationToken);
    }

    private async Task WriteQueriesAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The migrators' lock: concurrent starts write the rows one after the other.
        await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(7461827364)", cancellationToken);
        await UpsertQueriesAsync(connection, transaction, Queries, cancellationToken);
        // The cluster membership provider reads its queries from the same table (Orleans:Clustering=AdoNet).
        await UpsertQueriesAsync(connection, transaction, PostgreSqlMembershipTable.Queries, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
