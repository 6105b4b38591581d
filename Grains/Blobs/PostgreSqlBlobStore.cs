using System.Data;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Credentials.Grains.Blobs;

/// <summary>
/// Blobs in PostgreSQL, so every node of a cluster serves every org's media. The table
/// (<c>credentials_blobs</c>) is made by the schema migrations; this store runs no DDL.
/// </summary>
/// <remarks>
/// Rows are keyed by service id too, so services sharing a database never share bytes. Reads stream
/// in ranges of at most <see cref="BlobStores.ReadChunkBytes"/>, one short query each, so a slow
/// reader holds no pooled connection between ranges. The column is stored EXTERNAL (out of line,
/// uncompressed), so a range reads only the TOAST chunks it covers; rows written before that setting
/// may be compressed and stay readable, each range then decompressing the value up to its end.
/// </remarks>
public sealed class PostgreSqlBlobStore : IBlobStore, IAsyncDisposable
{
    /// <summary>Most blobs one batched INSERT writes, and (past its first) most bytes.</summary>
    public const int MaxPutBatch = 128;
    public const long MaxPutBatchBytes = 16 * 1024 * 1024;
    /// <summary>Most hashes one batched existence check looks up.</summary>
    public const int MaxExistsBatch = 256;

    private readonly NpgsqlDataSource _source;
    private readonly string _serviceId;
    private readonly BlobBatcher<BlobPut, bool> _puts;
    private readonly BlobBatcher<(string Org, string Sha256), bool> _exists;

    /// <summary>A put of one upload: the batch writes the distinct (org, hash) pairs once each.</summary>
    private readonly record struct BlobPut(string Org, string Sha256, ReadOnlyMemory<byte> Content);

    public PostgreSqlBlobStore(string connectionString, string serviceId)
    {
        _source = NpgsqlDataSource.Create(connectionString);
        _serviceId = serviceId;
        _puts = new BlobBatcher<BlobPut, bool>(PutBatchAsync, put => put.Content.Length, MaxPutBatch, MaxPutBatchBytes);
        _exists = new BlobBatcher<(string, string), bool>(ExistsBatchAsync, _ => 1, MaxExistsBatch, MaxExistsBatch);
    }

    private NpgsqlCommand Command(string sql, string org, string? sha256)
    {
        var command = _source.CreateCommand(sql);
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.AddWithValue("org", org);
        if (sha256 is not null) command.Parameters.Add(Sha("sha", sha256));
        return command;
    }

    /// <summary>Typed as the column (char(64)), so the comparison stays on the primary key.</summary>
    private static NpgsqlParameter Sha(string name, string sha256) => new(name, NpgsqlDbType.Char) { Value = sha256 };

    /// <summary>
    /// Joins the next batched INSERT of this process: concurrent uploads share one round trip and
    /// one commit. Returns once the batch is committed; a failed batch fails every put in it.
    /// </summary>
    public async Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        await _puts.RunAsync(new BlobPut(org, sha256, content), cancellationToken);
    }

    private async Task<IReadOnlyList<bool>> PutBatchAsync(IReadOnlyList<BlobPut> puts)
    {
        var sql = new StringBuilder("INSERT INTO credentials_blobs (service_id, org, sha256, content) VALUES ");
        await using var command = _source.CreateCommand();
        command.Parameters.AddWithValue("service", _serviceId);
        var seen = new HashSet<(string, string)>();
        foreach (var put in puts)
        {
            if (!seen.Add((put.Org, put.Sha256))) continue;
            var i = (seen.Count - 1).ToString(CultureInfo.InvariantCulture);
            if (seen.Count > 1) sql.Append(", ");
            sql.Append("(@service, @o").Append(i).Append(", @s").Append(i).Append(", @c").Append(i).Append(')');
            command.Parameters.AddWithValue("o" + i, put.Org);
            command.Parameters.Add(Sha("s" + i, put.Sha256));
            // The upload's own array when it is one, not a copy.
            var content = MemoryMarshal.TryGetArray(put.Content, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
                ? segment.Array
                : put.Content.ToArray();
            command.Parameters.Add(new NpgsqlParameter("c" + i, NpgsqlDbType.Bytea) { Value = content });
        }
        sql.Append(" ON CONFLICT (service_id, org, sha256) DO NOTHING");
        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync();
        return new bool[puts.Count];
    }

    public async Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        await using var command = Command("SELECT content FROM credentials_blobs WHERE service_id = @service AND org = @org AND sha256 = @sha", org, sha256);
        return await command.ExecuteScalarAsync(cancellationToken) as byte[];
    }

    public async Task<Stream?> OpenReadAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        try
        {
            // The length alone: octet_length reads the TOAST pointer, not the bytes.
            await using var command = Command("SELECT octet_length(content) FROM credentials_blobs WHERE service_id = @service AND org = @org AND sha256 = @sha", org, sha256);
            return await command.ExecuteScalarAsync(cancellationToken) is int length ? new RangeStream(this, org, sha256, length) : null;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new StorageUnavailableException($"The blob store could not open {org}/{sha256}.", ex);
        }
    }

    /// <summary>One range of a blob.</summary>
    private NpgsqlCommand RangeCommand(string org, string sha256, long offset, int count)
    {
        var command = _source.CreateCommand(
            "SELECT substring(content from @from for @count) FROM credentials_blobs WHERE service_id = @service AND org = @org AND sha256 = @sha");
        command.Parameters.AddWithValue("service", _serviceId);
        command.Parameters.AddWithValue("org", org);
        command.Parameters.Add(Sha("sha", sha256));
        command.Parameters.AddWithValue("from", checked((int)offset + 1));
        command.Parameters.AddWithValue("count", count);
        return command;
    }

    private async ValueTask<int> ReadRangeAsync(string org, string sha256, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = RangeCommand(org, sha256, offset, destination.Length);
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
            if (!await reader.ReadAsync(cancellationToken)) return 0;
            await using var column = await reader.GetStreamAsync(0, cancellationToken);
            return await column.ReadAtLeastAsync(destination, destination.Length, throwOnEndOfStream: false, cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new IOException($"Reading {org}/{sha256} from the blob store failed.", ex);
        }
    }

    private int ReadRange(string org, string sha256, long offset, Span<byte> destination)
    {
        try
        {
            using var command = RangeCommand(org, sha256, offset, destination.Length);
            using var reader = command.ExecuteReader(CommandBehavior.SequentialAccess);
            if (!reader.Read()) return 0;
            using var column = reader.GetStream(0);
            return column.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new IOException($"Reading {org}/{sha256} from the blob store failed.", ex);
        }
    }

    /// <summary>A blob read range by range; each read is one query for at most <see cref="BlobStores.ReadChunkBytes"/>.</summary>
    private sealed class RangeStream(PostgreSqlBlobStore store, string org, string sha256, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
        }

        private int CountFor(int room) => (int)Math.Max(0, Math.Min(Math.Min(room, BlobStores.ReadChunkBytes), length - _position));

        /// <summary>A range shorter than asked means the row went or changed under the reader: never a silent short blob.</summary>
        private int Advance(int read, int count)
        {
            if (read < count) throw new IOException($"The blob {org}/{sha256} was deleted while being read.");
            _position += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var count = CountFor(buffer.Length);
            if (count == 0) return 0;
            return Advance(await store.ReadRangeAsync(org, sha256, _position, buffer[..count], cancellationToken), count);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(Span<byte> buffer)
        {
            var count = CountFor(buffer.Length);
            if (count == 0) return 0;
            return Advance(store.ReadRange(org, sha256, _position, buffer[..count]), count);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Joins the next batched lookup of this process (the org grains ask this once per upload).</summary>
    public async Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        return await _exists.RunAsync((org, sha256), cancellationToken);
    }

    private async Task<IReadOnlyList<bool>> ExistsBatchAsync(IReadOnlyList<(string Org, string Sha256)> keys)
    {
        var sql = new StringBuilder("SELECT org, sha256 FROM credentials_blobs WHERE service_id = @service AND (org, sha256) IN (");
        await using var command = _source.CreateCommand();
        command.Parameters.AddWithValue("service", _serviceId);
        for (var n = 0; n < keys.Count; n++)
        {
            var i = n.ToString(CultureInfo.InvariantCulture);
            if (n > 0) sql.Append(", ");
            sql.Append("(@o").Append(i).Append(", @s").Append(i).Append(')');
            command.Parameters.Add(new NpgsqlParameter("o" + i, NpgsqlDbType.Varchar) { Value = keys[n].Org });
            command.Parameters.Add(Sha("s" + i, keys[n].Sha256));
        }
        command.CommandText = sql.Append(')').ToString();
        var found = new HashSet<(string, string)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) found.Add((reader.GetString(0), reader.GetString(1)));
        }
        return keys.Select(found.Contains).ToArray();
    }

    public async Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        await using var command = Command("DELETE FROM credentials_blobs WHERE service_id = @service AND org = @org AND sha256 = @sha", org, sha256);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var command = Command("SELECT sha256, stored_on FROM credentials_blobs WHERE service_id = @service AND org = @org", org, null);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return (reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1));
        }
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
