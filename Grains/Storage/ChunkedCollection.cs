namespace Credentials.Grains.Storage;

/// <summary>
/// An org's items of one kind (issuers, images) kept in memory in creation order and persisted as
/// bounded chunks, so that one write rewrites one chunk whatever the org's size.
/// </summary>
/// <remarks>
/// New items are appended to the tail chunk; a chunk is sealed once it has taken
/// <see cref="MaxItemsPerChunk"/> items or about <see cref="MaxBytesPerChunk"/> of them, and a
/// new tail is opened, numbered one past the highest chunk row that exists. Items move only when
/// compaction empties a sparse chunk into the tail; creation order is sequence order. Not
/// thread-safe: the owning grain runs one turn at a time.
/// </remarks>
public sealed class ChunkedCollection<T>(string keyPrefix, Func<T, string> keyOf, Func<T, int> sizeOf, int maxItemsPerChunk = ChunkedCollection<T>.MaxItemsPerChunk)
    where T : class
{
    public const int MaxItemsPerChunk = 128;
    public const int MaxBytesPerChunk = 256 * 1024;

    // In chunk-number order; the last is the tail, the only chunk that takes new items.
    private readonly List<ChunkSlot> _chunks = [];
    private readonly Dictionary<string, Entry> _byKey = new(StringComparer.Ordinal);
    // Creation order across the whole collection; removal is a memmove of references, cheap next
    // to the database write every removal waits for.
    private readonly List<Entry> _ordered = [];
    private readonly HashSet<ChunkSlot> _dirty = [];
    // Chunks under half full (by items and by bytes): what compaction empties into the tail.
    private readonly HashSet<ChunkSlot> _sparse = [];
    // Chunks compaction emptied whose rows exist: deleted at the next commit, after the tail is written.
    private readonly List<ChunkSlot> _emptied = [];
    private long _highWater;
    // The highest chunk row number seen in storage, readable or not: new chunks go past it.
    private int _highestRow = -1;

    public int Count => _ordered.Count;
    /// <summary>
    /// Changes whenever an item is added, replaced or removed; starts at a random value, so two
    /// activations (or silos) of one collection never agree on a version by chance.
    /// </summary>
    public long Version { get; private set; } = Random.Shared.NextInt64(1, long.MaxValue / 2);
    /// <summary>The highest sequence number ever handed out, over every chunk loaded or added.</summary>
    public long HighWater => _highWater;
    public bool HasChanges => _dirty.Count > 0 || _emptied.Count > 0;
    /// <summary>Chunks in memory: the rows the next activation reads, once the pending commit is done.</summary>
    public int ChunkCount => _chunks.Count;

    public T this[int index] => _ordered[index].Value;

    /// <summary>The sequence number of the item at <paramref name="index"/> in creation order.</summary>
    public long SeqAt(int index) => _ordered[index].Seq;

    /// <summary>The index of the first item whose sequence number is above <paramref name="seq"/> (Count when none).</summary>
    public int FirstIndexAfter(long seq)
    {
        int lo = 0, hi = _ordered.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_ordered[mid].Seq <= seq) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    public bool TryGet(string key, out T value)
    {
        if (_byKey.TryGetValue(key, out var entry))
        {
            value = entry.Value;
            return true;
        }
        value = null!;
        return false;
    }

    public bool TryGetSeq(string key, out long seq)
    {
        seq = _byKey.TryGetValue(key, out var entry) ? entry.Seq : 0;
        return seq != 0;
    }

    /// <summary>Hands out the next sequence number (1, 2, …), never one used before.</summary>
    public long NextSeq() => HighWater + 1;

    public void Add(T value, long seq)
    {
        var entry = new Entry(seq, value, null!);
        AppendToTail(entry, sizeOf(value));
        _highWater = Math.Max(_highWater, seq);
        _byKey.Add(keyOf(value), entry);
        _ordered.Add(entry);
        Version++;
    }

    private void AppendToTail(Entry entry, int size)
    {
        if (_chunks.Count == 0 || _chunks[^1].IsFull)
        {
            // One past the highest row that exists, so a new chunk never lands on an orphan row.
            var number = Math.Max(_highestRow, _chunks.Count == 0 ? -1 : _chunks[^1].Number) + 1;
            _chunks.Add(new ChunkSlot(number, _highWater, etag: null, maxItemsPerChunk));
        }
        var tail = _chunks[^1];
        entry.Slot = tail;
        tail.Items.Add(entry);
        tail.Appended++;
        tail.Bytes += size;
        tail.HighWater = Math.Max(tail.HighWater, entry.Seq);
        tail.Gained = true;
        _dirty.Add(tail);
    }

    public void Replace(string key, T value)
    {
        var entry = _byKey[key];
        entry.Slot.Bytes += sizeOf(value) - sizeOf(entry.Value);
        entry.Value = value;
        Changed(entry.Slot);
        Version++;
    }

    public void Remove(string key)
    {
        var entry = _byKey[key];
        _byKey.Remove(key);
        _ordered.RemoveAt(IndexOf(entry));
        entry.Slot.Items.Remove(entry);
        entry.Slot.Bytes -= sizeOf(entry.Value);
        Changed(entry.Slot);
        Version++;
    }

    /// <summary>
    /// Removes the <paramref name="count"/> oldest items (a log's retention): one move of the order
    /// index whatever the count, and the chunks they leave are compacted as after any removal.
    /// </summary>
    public void RemoveOldest(int count)
    {
        count = Math.Min(count, _ordered.Count);
        if (count <= 0) return;
        for (var i = 0; i < count; i++)
        {
            var entry = _ordered[i];
            _byKey.Remove(keyOf(entry.Value));
            entry.Slot.Items.Remove(entry);
            entry.Slot.Bytes -= sizeOf(entry.Value);
            Changed(entry.Slot);
        }
        _ordered.RemoveRange(0, count);
    }

    private void Changed(ChunkSlot slot)
    {
        _dirty.Add(slot);
        if (slot.IsSparse) _sparse.Add(slot); else _sparse.Remove(slot);
    }

    private int IndexOf(Entry entry)
    {
        // _ordered is sorted by Seq, so the entry is found by binary search.
        int lo = 0, hi = _ordered.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var seq = _ordered[mid].Seq;
            if (seq == entry.Seq) return mid;
            if (seq < entry.Seq) lo = mid + 1; else hi = mid - 1;
        }
        throw new InvalidOperationException("Entry not in order index.");
    }

    /// <summary>
    /// Loads every chunk row stored under the collection's prefix in one query, and takes them in
    /// chunk-number order, whether or not the numbers are dense. A gap (a chunk whose write failed
    /// while a later one was written, or one compaction deleted) is stepped over; an item whose
    /// key or sequence number an earlier chunk already holds is dropped, and its chunk is marked
    /// changed so the next commit rewrites it without it.
    /// </summary>
    public async Task<ChunkLoad> LoadAsync(ChunkStore store)
    {
        var rows = new List<(int Number, StoredRow<Chunk<T>> Row)>();
        var total = 0;
        foreach (var row in await store.ReadAllAsync<Chunk<T>>(keyPrefix + "/"))
        {
            if (ChunkNumber(row.Key) is not { } number) continue;
            rows.Add((number, row));
            _highestRow = Math.Max(_highestRow, number);
            total += row.Value?.Items.Length ?? 0;
        }
        rows.Sort((a, b) => a.Number.CompareTo(b.Number));
        _byKey.EnsureCapacity(total);
        _ordered.EnsureCapacity(total);
        var seqs = new HashSet<long>(total);
        var gaps = 0;
        var dropped = 0;
        var expected = 0;
        var sorted = true;
        foreach (var (number, row) in rows)
        {
            if (row.Value is not { } chunk) continue;
            if (number != expected) gaps++;
            expected = number + 1;
            var slot = new ChunkSlot(number, chunk.HighWater, row.ETag, maxItemsPerChunk, chunk.Items.Length) { Appended = maxItemsPerChunk };
            _chunks.Add(slot);
            _highWater = Math.Max(_highWater, chunk.HighWater);
            foreach (var item in chunk.Items)
            {
                _highWater = Math.Max(_highWater, item.Seq);
                var key = keyOf(item.Value);
                if (_byKey.ContainsKey(key) || !seqs.Add(item.Seq))
                {
                    dropped++;
                    _dirty.Add(slot);
                    continue;
                }
                var entry = new Entry(item.Seq, item.Value, slot);
                _byKey.Add(key, entry);
                slot.Items.Add(entry);
                slot.Bytes += sizeOf(item.Value);
                if (_ordered.Count > 0 && _ordered[^1].Seq > entry.Seq) sorted = false;
                _ordered.Add(entry);
            }
            if (slot.IsSparse) _sparse.Add(slot);
        }
        // Creation order is sequence order; compaction and rows behind a gap may hold older numbers.
        if (!sorted)
        {
            var keys = new long[_ordered.Count];
            for (var i = 0; i < keys.Length; i++) keys[i] = _ordered[i].Seq;
            keys.AsSpan().Sort(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ordered));
        }
        // Only the tail takes new items; after a restart it may take more until it is full.
        if (_chunks.Count > 0) _chunks[^1].Appended = _chunks[^1].Items.Count;
        Version++;
        return new ChunkLoad(_chunks.Count, gaps, dropped);
    }

    private int? ChunkNumber(string key) =>
        key.Length > keyPrefix.Length + 1 && key.StartsWith(keyPrefix + "/", StringComparison.Ordinal)
            && int.TryParse(key.AsSpan(keyPrefix.Length + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? number
            : null;

    /// <summary>
    /// Compacts a bounded amount, then takes an immutable snapshot of every changed chunk and
    /// clears the change set. The writes come in a crash-safe order: first the chunks that gained
    /// items, ascending (so chunk numbers stay dense if a write fails midway, and an item being
    /// moved is stored in its new chunk before it leaves its old one), then the chunks that only
    /// lost or changed items, then the deletions of chunks compaction emptied.
    /// </summary>
    public List<IPendingWrite> TakeChanges()
    {
        Compact();
        var pending = new List<IPendingWrite>(_dirty.Count + _emptied.Count);
        foreach (var slot in _dirty.OrderBy(s => s.Gained ? 0 : 1).ThenBy(s => s.Number))
        {
            var items = new ChunkItem<T>[slot.Items.Count];
            for (var i = 0; i < items.Length; i++) items[i] = new ChunkItem<T>(slot.Items[i].Seq, slot.Items[i].Value);
            pending.Add(new PendingChunk(this, slot, new Chunk<T>(slot.HighWater, items)));
        }
        foreach (var slot in _dirty) slot.Gained = false;
        foreach (var slot in _emptied) pending.Add(new PendingDeletion(this, slot));
        _dirty.Clear();
        _emptied.Clear();
        return pending;
    }

    /// <summary>
    /// Moves the items of sparse chunks to the tail, one whole chunk at a time, until about one
    /// chunk's worth of items has moved: the work per commit is bounded whatever the org's size,
    /// and churn (creates and deletes) leaves about live items / chunk capacity rows behind, every
    /// chunk but the tail at least half full. The emptied chunks' rows are deleted after the tail
    /// is written; a crash in between leaves an item in two chunks, which loading resolves.
    /// </summary>
    private void Compact()
    {
        var moved = 0;
        var emptied = false;
        while (moved < maxItemsPerChunk && PickSparse() is { } source)
        {
            _sparse.Remove(source);
            _dirty.Remove(source);
            _chunks.Remove(source);
            foreach (var entry in source.Items) AppendToTail(entry, sizeOf(entry.Value));
            moved += source.Items.Count;
            // The emptied chunk's counter must outlive it: ids are never reused.
            var tail = _chunks[^1];
            if (tail.HighWater < source.HighWater)
            {
                tail.HighWater = source.HighWater;
                tail.Gained = true;
                _dirty.Add(tail);
            }
            if (source.ETag is not null) _emptied.Add(source);
            emptied = true;
        }
        if (emptied) CompactionsRun++;
    }

    /// <summary>Compaction steps taken (commits that emptied at least one chunk); for tests and benchmarks.</summary>
    public int CompactionsRun { get; private set; }

    private ChunkSlot? PickSparse()
    {
        if (_chunks.Count < 2) return null;
        var tail = _chunks[^1];
        ChunkSlot? picked = null;
        List<ChunkSlot>? filled = null;
        foreach (var slot in _sparse)
        {
            // A tail noted as sparse may have filled up since.
            if (!slot.IsSparse) (filled ??= []).Add(slot);
            else if (slot != tail) { picked = slot; break; }
        }
        if (filled is not null) _sparse.ExceptWith(filled);
        return picked;
    }

    private string ChunkKey(int number) => $"{keyPrefix}/{number}";

    /// <summary>Items matching <paramref name="predicate"/>, in creation order.</summary>
    public IEnumerable<T> Where(Func<T, bool> predicate)
    {
        foreach (var entry in _ordered)
        {
            if (predicate(entry.Value)) yield return entry.Value;
        }
    }

    /// <summary>A chunk snapshot waiting to be written.</summary>
    private sealed class PendingChunk(ChunkedCollection<T> owner, ChunkSlot slot, Chunk<T> snapshot) : IPendingWrite
    {
        public async Task WriteAsync(ChunkStore store) =>
            slot.ETag = await store.WriteAsync(owner.ChunkKey(slot.Number), snapshot, slot.ETag);
    }

    /// <summary>The deletion of a row compaction emptied.</summary>
    private sealed class PendingDeletion(ChunkedCollection<T> owner, ChunkSlot slot) : IPendingWrite
    {
        public Task WriteAsync(ChunkStore store) => store.DeleteAsync(owner.ChunkKey(slot.Number), slot.ETag!);
    }

    private sealed class Entry(long seq, T value, ChunkSlot slot)
    {
        public long Seq { get; } = seq;
        public T Value { get; set; } = value;
        public ChunkSlot Slot { get; set; } = slot;
    }

    private sealed class ChunkSlot(int number, long highWater, string? etag, int capacity, int expectedItems = 4)
    {
        /// <summary>The chunk's row number: ascending, with gaps where compaction deleted a row or a write failed.</summary>
        public int Number { get; } = number;
        public long HighWater { get; set; } = highWater;
        public string? ETag { get; set; } = etag;
        public List<Entry> Items { get; } = new(expectedItems);
        public int Appended { get; set; }
        public int Bytes { get; set; }
        /// <summary>Took items since its last snapshot: written before the chunks that lost items.</summary>
        public bool Gained { get; set; }
        public bool IsFull => Appended >= capacity || Bytes >= MaxBytesPerChunk;
        public bool IsSparse => Items.Count * 2 < capacity && Bytes * 2 < MaxBytesPerChunk;
    }
}

/// <summary>What a load found: chunks read, gaps stepped over, duplicate items dropped.</summary>
public readonly record struct ChunkLoad(int Chunks, int Gaps, int DroppedItems)
{
    /// <summary>No item was held twice. Gaps alone are normal: compaction deletes rows.</summary>
    public bool IsClean => DroppedItems == 0;
}

/// <summary>One row to write as part of a group commit.</summary>
public interface IPendingWrite
{
    Task WriteAsync(ChunkStore store);
}
