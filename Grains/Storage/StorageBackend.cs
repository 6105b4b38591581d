using System.Buffers;
using System.Data.Common;
using System.Globalization;

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

    /// <summary>Writes a group commit's rows of one service in one transaction, with the provider's own queries.</summary>
    public IChunkBatchWriter ChunkBatches(string serviceId) => new BatchWriter(this, serviceId);

    /// <summary>The queries the grain storage provider runs to write and to clear one row (<c>WriteToStorageKey</c>, <c>ClearStorageKey</c>).</summary>
    protected abstract (string Write, string Clear) RowQueries { get; }

    /// <summary>
    /// The statement that stores one blob (<c>@service</c>, <c>@org</c>, <c>@sha</c>, <c>@content</c>)
    /// unless it is already there, where blobs live in this database; null where they do not (SQLite: files).
    /// </summary>
    protected virtual string? BlobInsert => null;

    /// <summary>
    /// Runs the provider's row queries, with the parameters it passes for a chunk row (a string
    /// grain key: both key numbers 0) and its version check, and the blob inserts, in one
    /// transaction. Where the driver batches (Npgsql), every statement goes in one round trip and
    /// the commit in a second, however many rows and blobs the group commit holds.
    /// </summary>
    private sealed class BatchWriter(StorageBackend backend, string serviceId) : IChunkBatchWriter
    {
        public bool WritesBlobs => backend.BlobInsert is not null;

        public async Task<string?[]> WriteAsync(IReadOnlyList<RowChange> changes, IReadOnlyList<BlobRow> blobs)
        {
            if (blobs.Count > 0 && backend.BlobInsert is null) throw new NotSupportedException($"{backend.Name} keeps blobs apart from its rows.");
            await using var connection = backend.CreateConnection();
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            var etags = connection.CanCreateBatch
                ? await WriteBatchedAsync(connection, transaction, changes, blobs)
                : await WriteOneByOneAsync(connection, transaction, changes, blobs);
            await transaction.CommitAsync();
            return etags;
        }

        private async Task<string?[]> WriteBatchedAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<RowChange> changes, IReadOnlyList<BlobRow> blobs)
        {
            await using var batch = connection.CreateBatch();
            batch.Transaction = transaction;
            foreach (var change in changes)
            {
                var command = batch.CreateBatchCommand();
                command.CommandText = RowQuery(change).TrimEnd().TrimEnd(';');
                AddRowParameters(command.Parameters, command.CreateParameter, change);
                batch.BatchCommands.Add(command);
            }
            // After the rows, so the reader's result sets are the rows' answers, in order.
            foreach (var blob in blobs)
            {
                var command = batch.CreateBatchCommand();
                command.CommandText = backend.BlobInsert!;
                AddBlobParameters(command.Parameters, command.CreateParameter, blob);
                batch.BatchCommands.Add(command);
            }
            var etags = new string?[changes.Count];
            await using var reader = await batch.ExecuteReaderAsync();
            for (var i = 0; i < changes.Count; i++)
            {
                if (i > 0 && !await reader.NextResultAsync()) throw new InvalidOperationException("A row write answered nothing.");
                etags[i] = Written(changes[i], await reader.ReadAsync() ? reader.GetValue(0) : null);
            }
            // The blob inserts' errors, if any, surface here, before the commit.
            while (await reader.NextResultAsync()) { }
            return etags;
        }

        private async Task<string?[]> WriteOneByOneAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<RowChange> changes, IReadOnlyList<BlobRow> blobs)
        {
            foreach (var blob in blobs)
            {
                await using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = backend.BlobInsert!;
                AddBlobParameters(command.Parameters, command.CreateParameter, blob);
                await command.ExecuteNonQueryAsync();
            }
            var etags = new string?[changes.Count];
            for (var i = 0; i < changes.Count; i++)
            {
                await using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = RowQuery(changes[i]);
                AddRowParameters(command.Parameters, command.CreateParameter, changes[i]);
                etags[i] = Written(changes[i], await command.ExecuteScalarAsync());
            }
            return etags;
        }

        private string RowQuery(RowChange change) => change.Payload is null ? backend.RowQueries.Clear : backend.RowQueries.Write;

        private void AddRowParameters(DbParameterCollection parameters, Func<DbParameter> create, RowChange change)
        {
            Add(parameters, create, "ServiceId", serviceId);
            Add(parameters, create, "GrainTypeString", ChunkStore.StateName);
            Add(parameters, create, "GrainIdN0", 0L);
            Add(parameters, create, "GrainIdN1", 0L);
            Add(parameters, create, "GrainIdExtensionString", change.Key);
            if (change.Payload is not null) Add(parameters, create, "PayloadBinary", change.Payload);
            var version = create();
            version.ParameterName = "GrainStateVersion";
            version.DbType = System.Data.DbType.Int32;
            version.Value = change.ETag is null ? DBNull.Value : int.Parse(change.ETag, CultureInfo.InvariantCulture);
            parameters.Add(version);
        }

        private void AddBlobParameters(DbParameterCollection parameters, Func<DbParameter> create, BlobRow blob)
        {
            Add(parameters, create, "service", serviceId);
            Add(parameters, create, "org", blob.Org);
            Add(parameters, create, "sha", blob.Sha256);
            Add(parameters, create, "content", blob.Content);
        }

        /// <summary>The row's new etag (null for a deletion); as the provider decides, no version back, or the same one, is a conflict.</summary>
        private static string? Written(RowChange change, object? result)
        {
            var written = result is null or DBNull ? null : Convert.ToInt32(result, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
            if (written is null || written == change.ETag)
                throw new Orleans.Storage.InconsistentStateException($"Row {change.Key} is no longer at version {change.ETag ?? "(new)"}.", written, change.ETag);
            return change.Payload is null ? null : written;
        }

        private static void Add(DbParameterCollection parameters, Func<DbParameter> create, string name, object value)
        {
            var parameter = create();
            parameter.ParameterName = name;
            parameter.Value = value;
            parameters.Add(parameter);
        }
    }

    /// <summary>
    /// The WHERE clause that matches the service's chunk rows whose key starts with
    /// <paramref name="prefix"/> as one indexed range, and its parameters.
    /// </summary>
    protected abstract (string Where, (string Name, object Value)[] Parameters) ChunkPrefixMatch(string serviceId, string prefix);

    private sealed class Listing(StorageBackend backend, string serviceId) : IChunkListing
    {
        public Task<IReadOnlyList<string>> ListKeysAsync(string prefix)
        {
            var (where, parameters) = backend.ChunkPrefixMatch(serviceId, prefix);
            return backend.ReadStringsAsync($"SELECT grain_key FROM credentials_grain_state WHERE {where}", parameters);
        }

        public Task<List<TRow>> ReadRowsAsync<TRow>(string prefix, ChunkRowDecoder<TRow> decode)
        {
            var (where, parameters) = backend.ChunkPrefixMatch(serviceId, prefix);
            return backend.ReadRowsAsync($"SELECT grain_key, version, payload FROM credentials_grain_state WHERE {where}", parameters, decode);
        }
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

    /// <summary>
    /// Runs a query answering (key, version, payload) rows and decodes each payload from one pooled
    /// buffer while the reader is on its row: a chunk's bytes are copied once, never kept.
    /// </summary>
    private async Task<List<TRow>> ReadRowsAsync<TRow>(string sql, (string Name, object Value)[] parameters, ChunkRowDecoder<TRow> decode)
    {
        await using var connection = CreateConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) AddParameter(command, name, value);
        var rows = new List<TRow>();
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var key = reader.GetString(0);
                var version = Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture);
                if (reader.IsDBNull(2))
                {
                    rows.Add(decode(key, version, default, false));
                    continue;
                }
                var length = checked((int)reader.GetBytes(2, 0, null, 0, 0));
                if (length > buffer.Length)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(length);
                }
                var read = 0;
                while (read < length) read += (int)reader.GetBytes(2, read, buffer, read, length - read);
                rows.Add(decode(key, version, buffer.AsSpan(0, length), true));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return rows;
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
