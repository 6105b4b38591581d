namespace Credentials.Grains.Blobs;

/// <summary>
/// Hot blobs kept in memory in front of another store, so media in PostgreSQL mode is not a
/// database read per request. Blobs are content-addressed, so an entry never goes stale; the one
/// way it can become wrong is its deletion. Where the deleting grain and the media endpoint share
/// this instance (a co-hosted silo), deletions go through <see cref="DeleteAsync"/> here, which
/// drops the entry. An API node in client mode hears of deletions made on the silos through a
/// <see cref="ICacheFreshness"/> (<see cref="BlobDeletionFollower"/>), which calls <see cref="Evict"/>
/// and <see cref="Clear"/> and says on each hit whether the entry may be served (ADR 0017).
/// </summary>
/// <remarks>
/// Bounded in bytes: at most <c>capacityBytes</c> of blob content in all, least recently used
/// out first; a blob larger than <c>maxEntryBytes</c> is never cached and streams from the store
/// as before. Concurrent misses for one blob share one load.
/// </remarks>
public sealed class CachedBlobStore : IBlobStore, IAsyncDisposable
{
    private readonly IBlobStore _inner;
    private readonly long _capacity;
    private readonly long _maxEntry;
    private readonly object _lock = new();
    private readonly Dictionary<(string Org, string Sha256), LinkedListNode<Entry>> _entries = new();
    private readonly LinkedList<Entry> _recency = new();
    private readonly Dictionary<(string Org, string Sha256), Slot> _loading = new();
    private readonly ICacheFreshness? _freshness;
    private long _bytes;

    private sealed record Entry((string Org, string Sha256) Key, byte[] Content, long Added);

    /// <summary>What a load found: the bytes (small enough to cache), or the open stream of a blob too large to, or nothing.</summary>
    private readonly record struct Loaded(byte[]? Content, Stream? Stream);

    /// <summary>One load in flight; compared by reference, so a load a delete cut off cannot fill a later one's place.</summary>
    private sealed class Slot
    {
        public Task<Loaded> Task = null!;
    }

    public CachedBlobStore(IBlobStore inner, long capacityBytes, long maxEntryBytes, ICacheFreshness? freshness = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntryBytes);
        _inner = inner;
        _capacity = capacityBytes;
        _maxEntry = Math.Min(maxEntryBytes, capacityBytes);
        _freshness = freshness;
    }

    /// <summary>Bytes of blob content held now; never above the capacity.</summary>
    public long CachedBytes { get { lock (_lock) return _bytes; } }

    public int CachedCount { get { lock (_lock) return _entries.Count; } }

    public async Task<Stream?> OpenReadAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        var key = (org, sha256);
        Task<Loaded> load;
        var loader = false;
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node) && _freshness?.Serves(node.Value.Added) == false)
            {
                // Not vouched for now: loaded again (and kept again) as on a miss.
                Drop(node);
                node = null;
            }
            if (node is not null)
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return Readable(node.Value.Content);
            }
            if (_loading.TryGetValue(key, out var slot))
            {
                load = slot.Task;
            }
            else
            {
                slot = new Slot();
                _loading[key] = slot;
                load = slot.Task = LoadAsync(key, slot);
                loader = true;
            }
        }
        Loaded loaded;
        try
        {
            loaded = await load.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (loader)
        {
            // The stream of a blob too large to cache was opened for this caller, who left.
            _ = load.ContinueWith(t => t.Result.Stream?.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
        // A blob too large to cache was opened for the first caller alone; the others open their own.
        if (loaded.Stream is not null) return loader ? loaded.Stream : await _inner.OpenReadAsync(org, sha256, cancellationToken);
        return loaded.Content is null ? null : Readable(loaded.Content);
    }

    private static MemoryStream Readable(byte[] content) => new(content, 0, content.Length, writable: false, publiclyVisible: false);

    /// <summary>Reads the blob whole if it may be cached, and caches it unless it was deleted meanwhile.</summary>
    private async Task<Loaded> LoadAsync((string Org, string Sha256) key, Slot slot)
    {
        // Off the caller's stack and token: the load is shared, and one caller leaving must not fail the rest.
        await Task.Yield();
        try
        {
            var stream = await _inner.OpenReadAsync(key.Org, key.Sha256, CancellationToken.None);
            if (stream is null) return default;
            if (stream.Length > _maxEntry) return new Loaded(null, stream);
            byte[] content;
            await using (stream)
            {
                content = new byte[stream.Length];
                await stream.ReadExactlyAsync(content, CancellationToken.None);
            }
            lock (_lock)
            {
                // A delete during the load removed our slot: the bytes may be gone, so they are not kept.
                if (Release(key, slot)) Add(key, content);
            }
            return new Loaded(content, null);
        }
        finally
        {
            lock (_lock) Release(key, slot);
        }
    }

    private bool Release((string Org, string Sha256) key, Slot slot) =>
        _loading.TryGetValue(key, out var current) && current == slot && _loading.Remove(key);

    private void Add((string Org, string Sha256) key, byte[] content)
    {
        if (content.Length > _maxEntry || _entries.ContainsKey(key)) return;
        while (_bytes + content.Length > _capacity && _recency.Last is { } oldest) Drop(oldest);
        _entries[key] = _recency.AddFirst(new Entry(key, content, _freshness?.Now() ?? 0));
        _bytes += content.Length;
    }

    private void Drop(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Content.Length;
    }

    /// <summary>Forgets a blob deleted elsewhere; a load of it in flight keeps nothing.</summary>
    public void Evict(string org, string sha256)
    {
        lock (_lock)
        {
            _loading.Remove((org, sha256));
            if (_entries.TryGetValue((org, sha256), out var node)) Drop(node);
        }
    }

    /// <summary>Forgets every blob (deletions were missed); loads in flight keep nothing.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _loading.Clear();
            _entries.Clear();
            _recency.Clear();
            _bytes = 0;
        }
    }

    public async Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        try
        {
            await _inner.DeleteAsync(org, sha256, cancellationToken);
        }
        finally
        {
            // After the store's delete, so a load that starts now finds nothing; a load that started
            // before loses its slot and keeps nothing.
            Evict(org, sha256);
        }
    }

    public Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        _inner.PutAsync(org, sha256, content, cancellationToken);

    public Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
        _inner.GetAsync(org, sha256, cancellationToken);

    public Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
        _inner.ExistsAsync(org, sha256, cancellationToken);

    public IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, CancellationToken cancellationToken = default) =>
        _inner.ListAsync(org, cancellationToken);

    public ValueTask DisposeAsync() => _inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}

/// <summary>Whether a cached blob may be served, for a cache that hears of deletions from elsewhere.</summary>
public interface ICacheFreshness
{
    /// <summary>A timestamp for an entry added now.</summary>
    long Now();

    /// <summary>Whether an entry added at <paramref name="added"/> may be served now; if not, it is loaded again.</summary>
    bool Serves(long added);
}
