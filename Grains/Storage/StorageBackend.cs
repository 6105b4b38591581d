using System.Data.Common;

namespace Credentials.Grains.Storage;

/// <summary>
/// Where grain state lives: PostgreSQL for clusters, SQLite on local disk for the embedded default.
/// Each backend creates its own schema (tables and the AdoNet provider's OrleansQuery rows)
/// idempotently at start-up, so nobody runs a script by hand.
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

    public abstract Task EnsureSchemaAsync(CancellationToken cancellationToken);

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

    private static void AddParameter(DbCommand command, string name, string value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
