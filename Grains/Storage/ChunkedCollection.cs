namespace Credentials.Grains.Storage;

/// <summary>
/// An org's items of one kind (issuers, images) kept in memory in creation order and persisted as
/// bounded chunks, so that one write rewrites one chunk whatever the org's size.
/// </summary>
/// <remarks>
/// New items are appended to the tail chunk; a chunk is sealed once it has taken
/// <see cref="MaxItemsPerChunk"/> items or about <see cref="MaxBytesPerChunk"/> of them, and a
/// new tail is opened, numbered one past the highest chunk row that exists. Items never move
/// between chunks, so creation order is chunk order, then order within the chunk. Not
/// thread-safe: the owning grain runs one turn at a time.
/// </remarks>
public sealed class ChunkedCollection<T>(string keyPrefix, Func<T, string> keyOf, Func<T, int> sizeOf, int maxItemsPerChunk = ChunkedCollection<T>.MaxItemsPerChunk)
    where T : class
{
    public const int MaxItemsPerChunk = 128;
    public const int MaxBytesPerChunk = 256 * 1024;

    // In storage order; an entry names its chunk by position here, a row by the chunk's number.
    private readonly List<ChunkSlot> _chunks = [];
    private readonly Dictionary<string, Entry> _byKey = new(StringComparer.Ordinal);
    // Creation order across the whole collection; removal is a memmove of references, cheap next
    // to the database write every removal waits for.
    private readonly List<Entry> _ordered = [];
    private readonly SortedSet<int> _dirty = [];
    private long _highWater;

    public int Count => _ordered.Count;
    /// <summary>The highest sequence number ever handed out, over every chunk loaded or added.</summary>
    public long HighWater => _highWater;
    public bool HasChanges => _dirty.Count > 0;

    public T this[int index] => _ordered[index].Value;

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
        var size = sizeOf(value);
        if (_chunks.Count == 0 || _chunks[^1].IsFull)
        {
            // One past the highest row that exists, so a new chunk never lands on an orphan row.
            var number = _chunks.Count == 0 ? 0 : _chunks[^1].Number + 1;
            _chunks.Add(new ChunkSlot(_chunks.Count, number, _highWater, etag: null, maxItemsPerChunk));
        }
        var tail = _chunks[^1];
        var entry = new Entry(seq, value, tail.Position);
        tail.Items.Add(entry);
        tail.Appended++;
        tail.Bytes += size;
        tail.HighWater = Math.Max(tail.HighWater, seq);
        _highWater = Math.Max(_highWater, seq);
        _byKey.Add(keyOf(value), entry);
        _ordered.Add(entry);
        _dirty.Add(tail.Position);
    }

    public void Replace(string key, T value)
    {
        var entry = _byKey[key];
        entry.Value = value;
        _dirty.Add(entry.Chunk);
    }

    public void Remove(string key)
    {
        var entry = _byKey[key];
        _byKey.Remove(key);
        _ordered.RemoveAt(IndexOf(entry));
        _chunks[entry.Chunk].Items.Remove(entry);
        _dirty.Add(entry.Chunk);
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
    /// Loads every chunk row stored under the collection's prefix, in chunk-number order, whether
    /// or not the numbers are dense. A gap (a chunk whose write failed while a later one was
    /// written) is stepped over; an item whose key or sequence number an earlier chunk already
    /// holds is dropped, and its chunk is marked changed so the next commit rewrites it without it.
    /// </summary>
    public async Task<ChunkLoad> LoadAsync(ChunkStore store)
    {
        var numbers = new SortedSet<int>();
        foreach (var key in await store.ListAsync(keyPrefix + "/"))
        {
            if (ChunkNumber(key) is { } number) numbers.Add(number);
        }
        var seqs = new HashSet<long>();
        var gaps = 0;
        var dropped = 0;
        var expected = 0;
        var sorted = true;
        foreach (var number in numbers)
        {
            var (chunk, etag) = await store.ReadAsync<Chunk<T>>(ChunkKey(number));
            if (etag is null || chunk is null) continue;
            if (number != expected) gaps++;
            expected = number + 1;
            var slot = new ChunkSlot(_chunks.Count, number, chunk.HighWater, etag, maxItemsPerChunk) { Appended = maxItemsPerChunk };
            _chunks.Add(slot);
            _highWater = Math.Max(_highWater, chunk.HighWater);
            foreach (var item in chunk.Items)
            {
                _highWater = Math.Max(_highWater, item.Seq);
                var key = keyOf(item.Value);
                if (_byKey.ContainsKey(key) || !seqs.Add(item.Seq))
                {
                    dropped++;
                    _dirty.Add(slot.Position);
                    continue;
                }
                var entry = new Entry(item.Seq, item.Value, slot.Position);
                _byKey.Add(key, entry);
                slot.Items.Add(entry);
                if (_ordered.Count > 0 && _ordered[^1].Seq > entry.Seq) sorted = false;
                _ordered.Add(entry);
            }
        }
        // Creation order is sequence order; rows written behind a gap may hold older numbers.
        if (!sorted) _ordered.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        // Only the tail takes new items; after a restart it may take more until it is full.
        if (_chunks.Count > 0)
        {
            var tail = _chunks[^1];
            tail.Appended = tail.Items.Count;
            tail.Bytes = tail.Items.Sum(e => sizeOf(e.Value));
        }
        return new ChunkLoad(_chunks.Count, gaps, dropped);
    }

    private int? ChunkNumber(string key) =>
        key.Length > keyPrefix.Length + 1 && key.StartsWith(keyPrefix + "/", StringComparison.Ordinal)
            && int.TryParse(key.AsSpan(keyPrefix.Length + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? number
            : null;

    /// <summary>
    /// Takes an immutable snapshot of every changed chunk, in ascending chunk order, and clears the
    /// change set. Writing them in that order keeps chunk numbers dense even if a write fails midway.
    /// </summary>
    public List<PendingChunk> TakeChanges()
    {
        var pending = new List<PendingChunk>(_dirty.Count);
        foreach (var index in _dirty)
        {
            var slot = _chunks[index];
            var items = new ChunkItem<T>[slot.Items.Count];
            for (var i = 0; i < items.Length; i++) items[i] = new ChunkItem<T>(slot.Items[i].Seq, slot.Items[i].Value);
            pending.Add(new PendingChunk(this, index, new Chunk<T>(slot.HighWater, items)));
        }
        _dirty.Clear();
        return pending;
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
    public sealed class PendingChunk(ChunkedCollection<T> owner, int index, Chunk<T> snapshot) : IPendingWrite
    {
        public async Task WriteAsync(ChunkStore store)
        {
            var slot = owner._chunks[index];
            slot.ETag = await store.WriteAsync(owner.ChunkKey(slot.Number), snapshot, slot.ETag);
        }
    }

    private sealed class Entry(long seq, T value, int chunk)
    {
        public long Seq { get; } = seq;
        public T Value { get; set; } = value;
        public int Chunk { get; } = chunk;
    }

    private sealed class ChunkSlot(int position, int number, long highWater, string? etag, int capacity)
    {
        public int Position { get; } = position;
        /// <summary>The chunk's row number: dense from 0, unless an earlier failure left a gap.</summary>
        public int Number { get; } = number;
        public long HighWater { get; set; } = highWater;
        public string? ETag { get; set; } = etag;
        public List<Entry> Items { get; } = [];
        public int Appended { get; set; }
        public int Bytes { get; set; }
        public bool IsFull => Appended >= capacity || Bytes >= MaxBytesPerChunk;
    }
}

/// <summary>What a load found: chunks read, gaps stepped over, duplicate items dropped.</summary>
public readonly record struct ChunkLoad(int Chunks, int Gaps, int DroppedItems)
{
    public bool IsClean => Gaps == 0 && DroppedItems == 0;
}

/// <summary>One row to write as part of a group commit.</summary>
public interface IPendingWrite
{
    Task WriteAsync(ChunkStore store);
}
