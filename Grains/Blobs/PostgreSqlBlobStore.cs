using System.Runtime.CompilerServices;
using Npgsql;

namespace Credentials.Grains.Blobs;

/// <summary>
/// Blobs in PostgreSQL, so every node of a cluster serves every org's media. The table is created
/// on first use by whichever process (silo or API node) gets there first.
/// </summary>
/// <remarks>Rows are keyed by service id too, so services sharing a database never share bytes.</remarks>
public sealed class PostgreSqlBlobStore(string connectionString, string serviceId) : IBlobStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);
    private Task? _schema;

    private const string Schema = """
        SELECT pg_advisory_xact_lock(7461827365);
        CREATE TABLE IF NOT EXISTS credentials_blobs
        (
            service_id varchar(150) NOT NULL,
            org       varchar(64) NOT NULL,
            sha256    char(64) NOT NULL,
            content   bytea NOT NULL,
            stored_on timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (service_id, org, sha256)
        );
        """;

    private readonly object _schemaLock = new();

    /// <summary>Every concurrent first caller shares one creation; a failed one is tried again later.</summary>
    private Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        lock (_schemaLock)
        {
            if (_schema is null || _schema.IsFaulted || _schema.IsCanceled) _schema = CreateSchemaAsync(CancellationToken.None);
            return _schema.WaitAsync(cancellationToken);
        }
    }

    private async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(Schema, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task<NpgsqlCommand> Command(string sql, string org, string? sha256, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken);
        var command = _source.CreateCommand(sql);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("org", org);
        if (sha256 is not null) command.Parameters.AddWithValue("sha", sha256);
        return command;
    }

    public async Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        await using var command = await Command(
            "INSERT INTO credentials_blobs (service_id, org, sha256, content) VALUES (@service, @org, @sha, @content) ON CONFLICT (service_id, org, sha256) DO NOTHING",
            org, sha256, cancellationToken);
        command.Parameters.AddWithValue("content", content.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        await using var command = await Command("SELECT content FROM credentials_blobs WHERE service_id = @service AND org = @org AND sha256 = @sha", org, sha256, cancellationToken);
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    public async Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        await using var command = await Command("SELECT 1 FROM credentials_blobs WHERE service_id = @service AND org = @org AND sha256 = @sha", org, sha256, cancellationToken);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public async Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        await using var command = await Command("DELETE FROM credentials_blobs WHERE service_id = @service AND org = @org AND sha256 = @sha", org, sha256, cancellationToken);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var command = await Command("SELECT sha256, stored_on FROM credentials_blobs WHERE service_id = @service AND org = @org", org, null, cancellationToken);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return (reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1));
        }
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
