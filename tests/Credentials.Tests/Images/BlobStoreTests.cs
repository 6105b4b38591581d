using System.Security.Cryptography;
using Credentials.Grains.Blobs;
using Credentials.Grains.Storage.Migrations;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Images;

/// <summary>
/// The two blob stores behind one contract: content-addressed per org, idempotent puts that never
/// replace what is there, reads of absent blobs as null, deletes that tolerate absence, listings per
/// org, and streams that give a blob's length up front and its bytes a bounded read at a time.
/// </summary>
public abstract class BlobStoreTests : IAsyncLifetime
{
    protected IBlobStore Store { get; private set; } = null!;

    protected abstract IBlobStore CreateStore();

    /// <summary>Runs before the store is made (PostgreSQL: the schema migrations; the store runs no DDL).</summary>
    protected virtual Task PrepareAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        await PrepareAsync();
        Store = CreateStore();
    }

    public async Task DisposeAsync()
    {
        if (Store is IAsyncDisposable disposable) await disposable.DisposeAsync();
    }

    protected static byte[] Bytes(int seed, int length = 1000)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    protected static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    protected async Task<string[]> ListAsync(string org)
    {
        var hashes = new List<string>();
        await foreach (var (sha256, _) in Store.ListAsync(org)) hashes.Add(sha256);
        return hashes.Order().ToArray();
    }

    [Fact]
    public async Task A_stored_blob_reads_back_byte_for_byte()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(1);

        await Store.PutAsync(org, Hash(bytes), bytes);

        Assert.Equal(bytes, await Store.GetAsync(org, Hash(bytes)));
        Assert.True(await Store.ExistsAsync(org, Hash(bytes)));
    }

    [Fact]
    public async Task A_blob_of_ten_mebibytes_reads_back_byte_for_byte()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(2, 10 * 1024 * 1024);

        await Store.PutAsync(org, Hash(bytes), bytes);

        Assert.Equal(bytes, await Store.GetAsync(org, Hash(bytes)));
    }

    [Fact]
    public async Task An_absent_blob_reads_as_null_and_does_not_exist()
    {
        var org = TestRequests.NewOrg();

        Assert.Null(await Store.GetAsync(org, new string('a', 64)));
        Assert.False(await Store.ExistsAsync(org, new string('a', 64)));
        Assert.Empty(await ListAsync(org));
    }

    /// <summary>Reads the rest of a stream through a buffer of the given size, returning each read's size too.</summary>
    protected static async Task<(byte[] Bytes, List<int> Reads)> ReadToEndAsync(Stream stream, int bufferSize)
    {
        var buffer = new byte[bufferSize];
        var all = new MemoryStream();
        var reads = new List<int>();
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            reads.Add(read);
            all.Write(buffer, 0, read);
        }
        return (all.ToArray(), reads);
    }

    [Fact]
    public async Task An_opened_blob_has_its_length_up_front_and_streams_back_byte_for_byte_over_many_reads()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(16, 3 * 1024 * 1024 + 12_345);
        await Store.PutAsync(org, Hash(bytes), bytes);

        await using var stream = await Store.OpenReadAsync(org, Hash(bytes));

        Assert.NotNull(stream);
        Assert.True(stream.CanSeek);
        Assert.Equal(bytes.Length, stream.Length);
        var (read, reads) = await ReadToEndAsync(stream, BlobStores.ReadChunkBytes);
        Assert.Equal(bytes, read);
        Assert.True(reads.Count > 10);
    }

    [Fact]
    public async Task An_opened_blob_reads_from_wherever_it_is_positioned()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(17, 600_000);
        await Store.PutAsync(org, Hash(bytes), bytes);
        await using var stream = (await Store.OpenReadAsync(org, Hash(bytes)))!;

        var head = new byte[1000];
        await stream.ReadExactlyAsync(head);
        stream.Position = 0;
        var (whole, _) = await ReadToEndAsync(stream, 70_000);
        stream.Position = 400_000;
        var (tail, _) = await ReadToEndAsync(stream, 70_000);

        Assert.Equal(bytes[..1000], head);
        Assert.Equal(bytes, whole);
        Assert.Equal(bytes[400_000..], tail);
    }

    [Fact]
    public async Task Opening_an_absent_blob_answers_null()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(18);
        await Store.PutAsync(org, Hash(bytes), bytes);

        Assert.Null(await Store.OpenReadAsync(org, new string('a', 64)));
        Assert.Null(await Store.OpenReadAsync(TestRequests.NewOrg(), Hash(bytes)));
    }

    [Fact]
    public async Task Putting_the_same_hash_again_keeps_one_blob_and_its_first_bytes()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(3);
        var hash = Hash(bytes);

        await Store.PutAsync(org, hash, bytes);
        await Store.PutAsync(org, hash, bytes);
        await Store.PutAsync(org, hash, Bytes(4)); // never happens for honest callers; must not replace

        Assert.Equal([hash], await ListAsync(org));
        Assert.Equal(bytes, await Store.GetAsync(org, hash));
    }

    [Fact]
    public async Task Concurrent_puts_of_the_same_blob_all_succeed_and_store_it_once()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(5, 256 * 1024);
        var hash = Hash(bytes);

        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => Store.PutAsync(org, hash, bytes))));

        Assert.Equal([hash], await ListAsync(org));
        Assert.Equal(bytes, await Store.GetAsync(org, hash));
    }

    [Fact]
    public async Task Delete_removes_the_blob_and_tolerates_one_that_is_absent()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(6);
        await Store.PutAsync(org, Hash(bytes), bytes);

        await Store.DeleteAsync(org, Hash(bytes));
        await Store.DeleteAsync(org, Hash(bytes));
        await Store.DeleteAsync(TestRequests.NewOrg(), Hash(bytes));

        Assert.Null(await Store.GetAsync(org, Hash(bytes)));
        Assert.False(await Store.ExistsAsync(org, Hash(bytes)));
        Assert.Empty(await ListAsync(org));
    }

    [Fact]
    public async Task Orgs_are_apart_even_for_the_same_bytes()
    {
        var (a, b) = (TestRequests.NewOrg(), TestRequests.NewOrg());
        var shared = Bytes(7);
        var onlyA = Bytes(8);
        await Store.PutAsync(a, Hash(shared), shared);
        await Store.PutAsync(a, Hash(onlyA), onlyA);
        await Store.PutAsync(b, Hash(shared), shared);

        await Store.DeleteAsync(a, Hash(shared));

        Assert.Equal([Hash(onlyA)], await ListAsync(a));
        Assert.Equal([Hash(shared)], await ListAsync(b));
        Assert.Null(await Store.GetAsync(b, Hash(onlyA)));
        Assert.Equal(shared, await Store.GetAsync(b, Hash(shared)));
    }

    [Fact]
    public async Task The_listing_says_when_each_blob_was_stored()
    {
        var org = TestRequests.NewOrg();
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        var bytes = Bytes(9);

        await Store.PutAsync(org, Hash(bytes), bytes);

        var (sha256, stored) = Assert.Single(await ToListAsync(Store.ListAsync(org)));
        Assert.Equal(Hash(bytes), sha256);
        Assert.InRange(stored, before, DateTimeOffset.UtcNow.AddSeconds(5));
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }
}

public sealed class FileBlobStoreTests : BlobStoreTests
{
    private readonly string _root = Path.Combine(TestBackends.NewTempDirectory(), "blobs");

    protected override IBlobStore CreateStore() => new FileBlobStore(_root);

    [Fact]
    public async Task A_blob_is_one_file_named_by_its_hash_in_the_orgs_folder_with_no_temporary_file_left()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(10);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.PutAsync(org, Hash(bytes), bytes))));

        var file = Assert.Single(Directory.GetFiles(Path.Combine(_root, org)));
        Assert.Equal(Path.Combine(_root, org, Hash(bytes)), file);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task A_temporary_file_left_by_a_crash_is_not_listed_as_a_blob()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(11);
        await Store.PutAsync(org, Hash(bytes), bytes);
        await File.WriteAllBytesAsync(Path.Combine(_root, org, Hash(Bytes(12)) + "." + Guid.NewGuid().ToString("N") + ".tmp"), [1, 2]);

        Assert.Equal([Hash(bytes)], await ListAsync(org));
    }

    [Theory]
    [InlineData("../escape", "hash")]
    [InlineData("..", "hash")]
    [InlineData("org", "../../etc/passwd")]
    [InlineData("org", "..")]
    [InlineData("org/sub", "hash")]
    [InlineData("org", "sub/name")]
    [InlineData("", "hash")]
    public async Task Keys_that_are_not_an_org_and_a_sha256_never_become_a_path(string org, string sha256)
    {
        var key = sha256 == "hash" ? Hash(Bytes(13)) : sha256;

        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(org, key, Bytes(13)));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetAsync(org, key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(org, key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(org, key));
        Assert.DoesNotContain(
            Directory.GetFileSystemEntries(Path.GetDirectoryName(_root)!, "*", SearchOption.AllDirectories),
            p => !p.StartsWith(_root, StringComparison.Ordinal));
    }
}

public sealed class PostgreSqlBlobStoreTests : BlobStoreTests
{
    private readonly string _serviceId = TestBackends.NewServiceId();

    protected override IBlobStore CreateStore() => new PostgreSqlBlobStore(TestBackends.PostgresConnectionString, _serviceId);

    protected override Task PrepareAsync() => TestBackends.MigratePostgresAsync();

    [Fact]
    public async Task A_second_store_over_the_same_database_sees_the_same_blobs()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(14);
        await Store.PutAsync(org, Hash(bytes), bytes);

        await using var other = new PostgreSqlBlobStore(TestBackends.PostgresConnectionString, _serviceId);

        Assert.Equal(bytes, await other.GetAsync(org, Hash(bytes)));
        await other.DeleteAsync(org, Hash(bytes));
        Assert.Null(await Store.GetAsync(org, Hash(bytes)));
    }

    [Fact]
    public async Task Each_read_fetches_at_most_one_chunk_however_large_the_buffer()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(19, 3 * BlobStores.ReadChunkBytes + 5);
        await Store.PutAsync(org, Hash(bytes), bytes);
        await using var stream = (await Store.OpenReadAsync(org, Hash(bytes)))!;

        var (read, reads) = await ReadToEndAsync(stream, 4 * 1024 * 1024);

        Assert.Equal(bytes, read);
        Assert.Equal([BlobStores.ReadChunkBytes, BlobStores.ReadChunkBytes, BlobStores.ReadChunkBytes, 5], reads);
    }

    [Fact]
    public async Task Open_streams_hold_no_connection_between_reads()
    {
        // One connection in the pool: were a stream to keep it between reads, the other could not read.
        var oneConnection = new Npgsql.NpgsqlConnectionStringBuilder(TestBackends.PostgresConnectionString) { MaxPoolSize = 1, Timeout = 5 };
        await using var store = new PostgreSqlBlobStore(oneConnection.ConnectionString, _serviceId);
        var org = TestRequests.NewOrg();
        var (a, b) = (Bytes(20, 2 * BlobStores.ReadChunkBytes), Bytes(21, 2 * BlobStores.ReadChunkBytes));
        await store.PutAsync(org, Hash(a), a);
        await store.PutAsync(org, Hash(b), b);
        await using var first = (await store.OpenReadAsync(org, Hash(a)))!;
        await using var second = (await store.OpenReadAsync(org, Hash(b)))!;
        var (readA, readB) = (new byte[a.Length], new byte[b.Length]);

        await first.ReadExactlyAsync(readA.AsMemory(0, BlobStores.ReadChunkBytes));
        await second.ReadExactlyAsync(readB.AsMemory(0, BlobStores.ReadChunkBytes));
        await first.ReadExactlyAsync(readA.AsMemory(BlobStores.ReadChunkBytes));
        await second.ReadExactlyAsync(readB.AsMemory(BlobStores.ReadChunkBytes));

        Assert.Equal(a, readA);
        Assert.Equal(b, readB);
    }

    [Fact]
    public async Task A_blob_deleted_while_being_read_fails_the_next_read_rather_than_ending_short()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(22, 2 * BlobStores.ReadChunkBytes);
        await Store.PutAsync(org, Hash(bytes), bytes);
        await using var stream = (await Store.OpenReadAsync(org, Hash(bytes)))!;
        await stream.ReadExactlyAsync(new byte[BlobStores.ReadChunkBytes]);

        await Store.DeleteAsync(org, Hash(bytes));

        await Assert.ThrowsAsync<IOException>(async () => await stream.ReadExactlyAsync(new byte[BlobStores.ReadChunkBytes]));
    }

    [Fact]
    public async Task The_blob_column_is_stored_out_of_line_uncompressed_so_a_range_reads_only_its_chunks()
    {
        var bytes = Bytes(23);
        await Store.PutAsync(TestRequests.NewOrg(), Hash(bytes), bytes);

        Assert.Equal('e', await ScalarAsync("SELECT attstorage FROM pg_attribute WHERE attrelid = 'credentials_blobs'::regclass AND attname = 'content'"));
    }

    [Fact]
    public async Task Rows_stored_compressed_before_the_column_was_external_stay_readable_after_the_migration_that_makes_it_external()
    {
        // A database of its own at schema version 1, where the column was still EXTENDED (compressed).
        await using var database = await Persistence.MigrationDatabase.CreateAsync();
        await SchemaMigrations.ApplyAsync(database.ConnectionString, CancellationToken.None, target: 1);
        var org = TestRequests.NewOrg();
        var bytes = new byte[3 * BlobStores.ReadChunkBytes + 7];
        for (var i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i % 7 * (i / 1000 % 5)); // compresses well
        await using (var old = new PostgreSqlBlobStore(database.ConnectionString, _serviceId))
        {
            await old.PutAsync(org, Hash(bytes), bytes);
        }
        Assert.NotNull(await database.ScalarAsync($"SELECT pg_column_compression(content) FROM credentials_blobs WHERE sha256 = '{Hash(bytes)}'"));

        await SchemaMigrations.ApplyAsync(database.ConnectionString, CancellationToken.None);
        await using var migrated = new PostgreSqlBlobStore(database.ConnectionString, _serviceId);
        await using var stream = (await migrated.OpenReadAsync(org, Hash(bytes)))!;

        Assert.Equal(bytes.Length, stream.Length);
        Assert.Equal(bytes, (await ReadToEndAsync(stream, BlobStores.ReadChunkBytes)).Bytes);
        Assert.Equal("e", Convert.ToString(await database.ScalarAsync("SELECT attstorage FROM pg_attribute WHERE attrelid = 'credentials_blobs'::regclass AND attname = 'content'")));
    }

    private static async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestBackends.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    [Fact]
    public async Task A_store_of_another_service_over_the_same_database_sees_none_of_its_blobs()
    {
        var org = TestRequests.NewOrg();
        var bytes = Bytes(15);
        await Store.PutAsync(org, Hash(bytes), bytes);

        await using var other = new PostgreSqlBlobStore(TestBackends.PostgresConnectionString, TestBackends.NewServiceId());

        Assert.Null(await other.GetAsync(org, Hash(bytes)));
        await other.DeleteAsync(org, Hash(bytes));
        Assert.Equal(bytes, await Store.GetAsync(org, Hash(bytes)));
    }
}
