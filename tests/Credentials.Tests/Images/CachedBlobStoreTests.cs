using System.Collections.Concurrent;
using Credentials.Grains.Blobs;

namespace Credentials.Tests.Images;

/// <summary>
/// The media cache on its own, over an in-memory store that counts opens and can hold them: bounded
/// in bytes, never caching a blob over its entry cap, one load for concurrent misses, nothing kept
/// of a blob deleted before or during its load.
/// </summary>
public sealed class CachedBlobStoreTests
{
    private const string Org = "cache-org";

    private static byte[] Blob(int length, int seed) => Enumerable.Range(0, length).Select(i => (byte)(i * 31 + seed)).ToArray();

    private static async Task<byte[]?> ReadAsync(IBlobStore store, string sha256)
    {
        await using var stream = await store.OpenReadAsync(Org, sha256);
        if (stream is null) return null;
        var bytes = new byte[stream.Length];
        await stream.ReadExactlyAsync(bytes);
        return bytes;
    }

    /// <summary>A store holding one blob, and a cache of 100,000 bytes (10,000 an entry) over it.</summary>
    private static async Task<(MemoryBlobStore Store, CachedBlobStore Cache)> OneBlobAsync(string sha256, byte[] bytes)
    {
        var store = new MemoryBlobStore();
        await store.PutAsync(Org, sha256, bytes);
        return (store, new CachedBlobStore(store, 100_000, 10_000));
    }

    [Fact]
    public async Task The_cache_never_holds_more_bytes_than_its_bound_however_many_blobs_are_read()
    {
        var store = new MemoryBlobStore();
        var cache = new CachedBlobStore(store, capacityBytes: 100_000, maxEntryBytes: 30_000);
        for (var i = 0; i < 60; i++)
        {
            var bytes = Blob(7_000 + i * 311, i);
            await store.PutAsync(Org, $"blob{i}", bytes);
            Assert.Equal(bytes, await ReadAsync(cache, $"blob{i}"));
            Assert.InRange(cache.CachedBytes, 0, 100_000);
        }
        Assert.InRange(cache.CachedCount, 1, 100_000 / 7_000);
        // The most recent blob is still held: a second read does not reach the store.
        var opens = store.Opens;
        Assert.Equal(Blob(7_000 + 59 * 311, 59), await ReadAsync(cache, "blob59"));
        Assert.Equal(opens, store.Opens);
    }

    [Fact]
    public async Task A_blob_over_the_entry_cap_streams_from_the_store_and_evicts_nothing()
    {
        var store = new MemoryBlobStore();
        var cache = new CachedBlobStore(store, capacityBytes: 100_000, maxEntryBytes: 10_000);
        await store.PutAsync(Org, "small", Blob(5_000, 1));
        await store.PutAsync(Org, "large", Blob(50_000, 2));
        await ReadAsync(cache, "small");

        Assert.Equal(Blob(50_000, 2), await ReadAsync(cache, "large"));
        Assert.Equal(Blob(50_000, 2), await ReadAsync(cache, "large"));

        Assert.Equal(5_000, cache.CachedBytes);
        Assert.Equal(3, store.Opens);
    }

    [Fact]
    public async Task Concurrent_misses_for_one_blob_open_the_store_once()
    {
        var (store, cache) = await OneBlobAsync("hot", Blob(4_000, 3));
        store.HoldOpens();

        var readers = Enumerable.Range(0, 32).Select(_ => Task.Run(() => ReadAsync(cache, "hot"))).ToArray();
        await store.WaitForOpenAsync();
        store.ReleaseOpens();

        foreach (var bytes in await Task.WhenAll(readers)) Assert.Equal(Blob(4_000, 3), bytes);
        Assert.Equal(1, store.Opens);
    }

    [Fact]
    public async Task A_blob_deleted_through_the_cache_is_gone_even_when_it_was_cached()
    {
        var (store, cache) = await OneBlobAsync("gone", Blob(4_000, 4));
        await ReadAsync(cache, "gone");

        await cache.DeleteAsync(Org, "gone");

        Assert.Null(await ReadAsync(cache, "gone"));
        Assert.Equal(0, cache.CachedBytes);
    }

    [Fact]
    public async Task A_blob_deleted_while_it_loads_is_not_kept()
    {
        var (store, cache) = await OneBlobAsync("racing", Blob(4_000, 5));
        store.HoldOpens();
        var reader = Task.Run(() => ReadAsync(cache, "racing"));
        await store.WaitForOpenAsync();

        await cache.DeleteAsync(Org, "racing");
        store.ReleaseOpens();
        await reader;

        Assert.Equal(0, cache.CachedCount);
        Assert.Null(await ReadAsync(cache, "racing"));
    }

    [Fact]
    public async Task A_hit_the_freshness_does_not_vouch_for_is_read_from_the_store_again()
    {
        var store = new MemoryBlobStore();
        await store.PutAsync(Org, "followed", Blob(4_000, 6));
        var freshness = new Freshness();
        var cache = new CachedBlobStore(store, 100_000, 10_000, freshness);
        await ReadAsync(cache, "followed");
        await ReadAsync(cache, "followed");
        Assert.Equal(1, store.Opens);

        freshness.Current = false;
        await ReadAsync(cache, "followed");
        await ReadAsync(cache, "followed");
        Assert.Equal(3, store.Opens);

        freshness.Current = true;
        await ReadAsync(cache, "followed");
        Assert.Equal(3, store.Opens);
    }

    [Fact]
    public async Task Evict_and_clear_drop_entries_and_loads_in_flight()
    {
        var store = new MemoryBlobStore();
        foreach (var name in new[] { "a", "b" }) await store.PutAsync(Org, name, Blob(1_000, name[0]));
        var cache = new CachedBlobStore(store, 100_000, 10_000, new Freshness());
        await ReadAsync(cache, "a");
        await ReadAsync(cache, "b");

        cache.Evict(Org, "a");
        Assert.Equal(1, cache.CachedCount);
        Assert.Equal(1_000, cache.CachedBytes);
        cache.Clear();
        Assert.Equal(0, cache.CachedCount);
        Assert.Equal(0, cache.CachedBytes);

        // A store not opened yet, so the wait below is for this load's open.
        var (racing, racingCache) = await OneBlobAsync("c", Blob(1_000, 'c'));
        racing.HoldOpens();
        var loading = Task.Run(() => ReadAsync(racingCache, "c"));
        await racing.WaitForOpenAsync();
        racingCache.Clear();
        racing.ReleaseOpens();
        Assert.Equal(Blob(1_000, 'c'), await loading);
        Assert.Equal(0, racingCache.CachedCount);
    }

    private sealed class Freshness : ICacheFreshness
    {
        public bool Current { get; set; } = true;
        public long Now() => 0;
        public bool Serves(long added) => Current;
    }

    /// <summary>Blobs in a dictionary; counts opens and, when told, holds them until released.</summary>
    private sealed class MemoryBlobStore : IBlobStore
    {
        private readonly ConcurrentDictionary<(string, string), byte[]> _blobs = new();
        private TaskCompletionSource? _hold;
        private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _opens;

        public int Opens => Volatile.Read(ref _opens);
        public void HoldOpens() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        public void ReleaseOpens() => _hold!.SetResult();
        public Task WaitForOpenAsync() => _opened.Task.WaitAsync(TimeSpan.FromSeconds(30));

        public async Task<Stream?> OpenReadAsync(string org, string sha256, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _opens);
            // The bytes are looked up at open, as the real stores do; a hold comes after.
            var found = _blobs.TryGetValue((org, sha256), out var bytes);
            _opened.TrySetResult();
            if (_hold is { } hold) await hold.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            return found ? new MemoryStream(bytes!, writable: false) : null;
        }

        public Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
        {
            _blobs.TryAdd((org, sha256), content.ToArray());
            return Task.CompletedTask;
        }

        public Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
            Task.FromResult(_blobs.TryGetValue((org, sha256), out var bytes) ? bytes : null);

        public Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
            Task.FromResult(_blobs.ContainsKey((org, sha256)));

        public Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default)
        {
            _blobs.TryRemove((org, sha256), out _);
            return Task.CompletedTask;
        }

        public async IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.CompletedTask;
            foreach (var ((o, sha), _) in _blobs) if (o == org) yield return (sha, DateTimeOffset.UnixEpoch);
        }
    }
}
