using System.Data.Common;

namespace Credentials.Grains.Storage;

/// <summary>
/// Where grain state lives: PostgreSQL for clusters, SQLite on local disk for the embedded default.
/// SQLite creates its schema at start-up; PostgreSQL's is versioned (<see cref="Migrations.SchemaMigrations"/>):
/// migrated by <c>Credentials.Api migrate</c> or an embedded service, only checked by cluster nodes.
/// </summary>
public abstract class StorageBackend(string connectionString)
{
    public string ConnectionString { get; } = connectionString;

    /// <summary>The ADO.NET invariant the Orleans AdoNet providers load.</summary>
    public abstract string Invariant { get; }

    public abstract string Name { get; }

    /// <summary>True when the database takes one writer at a time (SQLite): writes then queue in process.</summary>
    public virtual bool SingleWriter => false;

    public abstract DbConnection CreateConnection();

    /// <summary>Creates or migrates the schema (DDL), then stores the AdoNet providers' queries.</summary>
    public abstract Task EnsureSchemaAsync(CancellationToken cancellationToken);

    /// <summary>
    /// For a process without DDL rights: fails when the schema is older than this build needs, then
    /// stores the providers' queries. A backend whose schema is its own file (SQLite) just ensures it.
    /// </summary>
    public virtual Task VerifySchemaAsync(CancellationToken cancellationToken) => EnsureSchemaAsync(cancellationToken);

    /// <summary>The chunk rows of one service (the Orleans service id the storage provider writes under).</summary>
    public IChunkListing ChunkListing(string serviceId) => new Listing(this, serviceId);

    /// <summary>Keys of the service's chunk rows that start with <paramref name="prefix"/>; one indexed range read.</summary>
    protected abstract Task<IReadOnlyList<string>> ListChunkKeysAsync(string serviceId, string prefix);

    private sealed class Listing(StorageBackend backend, string serviceId) : IChunkListing
    {
        public Task<IReadOnlyList<string>> ListKeysAsync(string prefix) => backend.ListChunkKeysAsync(serviceId, prefix);
    }

    /// <summary>Runs a query that answers one string column.</summary>
    protected async Task<IReadOnlyList<string>> ReadStringsAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = CreateConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) AddParameter(command, name, value);
        var keys = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) keys.Add(reader.GetString(0));
        return keys;
    }

    /// <summary>Readiness: the database answers a trivial query.</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>Stores the AdoNet grain storage provider's queries under its keys.</summary>
    protected static async Task UpsertQueriesAsync(DbConnection connection, DbTransaction? transaction, IReadOnlyDictionary<string, string> queries, CancellationToken cancellationToken)
    {
        foreach (var (key, text) in queries)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText =
                "INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES (@key, @text) " +
                "ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText";
            AddParameter(command, "key", key);
            AddParameter(command, "text", text);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    protected static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
