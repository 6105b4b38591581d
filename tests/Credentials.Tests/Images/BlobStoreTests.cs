using System.Security.Cryptography;
using Credentials.Grains.Blobs;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Images;

/// <summary>
/// The two blob stores behind one contract: content-addressed per org, idempotent puts that never
/// replace what is there, reads of absent blobs as null, deletes that tolerate absence, listings per org.
/// </summary>
public abstract class BlobStoreTests : IAsyncLifetime
{
    protected IBlobStore Store { get; private set; } = null!;

    protected abstract IBlobStore CreateStore();

    public Task InitializeAsync()
    {
        Store = CreateStore();
        return Task.CompletedTask;
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
        var org = Http.NewOrg();
        var bytes = Bytes(1);

        await Store.PutAsync(org, Hash(bytes), bytes);

        Assert.Equal(bytes, await Store.GetAsync(org, Hash(bytes)));
        Assert.True(await Store.ExistsAsync(org, Hash(bytes)));
    }

    [Fact]
    public async Task A_blob_of_ten_mebibytes_reads_back_byte_for_byte()
    {
        var org = Http.NewOrg();
        var bytes = Bytes(2, 10 * 1024 * 1024);

        await Store.PutAsync(org, Hash(bytes), bytes);

        Assert.Equal(bytes, await Store.GetAsync(org, Hash(bytes)));
    }

    [Fact]
    public async Task An_absent_blob_reads_as_null_and_does_not_exist()
    {
        var org = Http.NewOrg();

        Assert.Null(await Store.GetAsync(org, new string('a', 64)));
        Assert.False(await Store.ExistsAsync(org, new string('a', 64)));
        Assert.Empty(await ListAsync(org));
    }

    [Fact]
    public async Task Putting_the_same_hash_again_keeps_one_blob_and_its_first_bytes()
    {
        var org = Http.NewOrg();
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
        var org = Http.NewOrg();
        var bytes = Bytes(5, 256 * 1024);
        var hash = Hash(bytes);

        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => Store.PutAsync(org, hash, bytes))));

        Assert.Equal([hash], await ListAsync(org));
        Assert.Equal(bytes, await Store.GetAsync(org, hash));
    }

    [Fact]
    public async Task Delete_removes_the_blob_and_tolerates_one_that_is_absent()
    {
        var org = Http.NewOrg();
        var bytes = Bytes(6);
        await Store.PutAsync(org, Hash(bytes), bytes);

        await Store.DeleteAsync(org, Hash(bytes));
        await Store.DeleteAsync(org, Hash(bytes));
        await Store.DeleteAsync(Http.NewOrg(), Hash(bytes));

        Assert.Null(await Store.GetAsync(org, Hash(bytes)));
        Assert.False(await Store.ExistsAsync(org, Hash(bytes)));
        Assert.Empty(await ListAsync(org));
    }

    [Fact]
    public async Task Orgs_are_apart_even_for_the_same_bytes()
    {
        var (a, b) = (Http.NewOrg(), Http.NewOrg());
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
        var org = Http.NewOrg();
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
        var org = Http.NewOrg();
        var bytes = Bytes(10);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.PutAsync(org, Hash(bytes), bytes))));

        var file = Assert.Single(Directory.GetFiles(Path.Combine(_root, org)));
        Assert.Equal(Path.Combine(_root, org, Hash(bytes)), file);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(file));
    }

    [Fact]
    public async Task A_temporary_file_left_by_a_crash_is_not_listed_as_a_blob()
    {
        var org = Http.NewOrg();
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

    [Fact]
    public async Task A_second_store_over_the_same_database_sees_the_same_blobs()
    {
        var org = Http.NewOrg();
        var bytes = Bytes(14);
        await Store.PutAsync(org, Hash(bytes), bytes);

        await using var other = new PostgreSqlBlobStore(TestBackends.PostgresConnectionString, _serviceId);

        Assert.Equal(bytes, await other.GetAsync(org, Hash(bytes)));
        await other.DeleteAsync(org, Hash(bytes));
        Assert.Null(await Store.GetAsync(org, Hash(bytes)));
    }

    [Fact]
    public async Task A_store_of_another_service_over_the_same_database_sees_none_of_its_blobs()
    {
        var org = Http.NewOrg();
        var bytes = Bytes(15);
        await Store.PutAsync(org, Hash(bytes), bytes);

        await using var other = new PostgreSqlBlobStore(TestBackends.PostgresConnectionString, TestBackends.NewServiceId());

        Assert.Null(await other.GetAsync(org, Hash(bytes)));
        await other.DeleteAsync(org, Hash(bytes));
        Assert.Equal(bytes, await Store.GetAsync(org, Hash(bytes)));
    }
}
