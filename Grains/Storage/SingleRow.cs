namespace Credentials.Grains.Storage;

/// <summary>A small, bounded piece of an org's state kept in one row (the platform, its tokens).</summary>
public sealed class SingleRow<T>(string key) where T : class
{
    private readonly string _key = key;
    private string? _etag;
    private bool _dirty;

    public T? Value { get; private set; }

    public async Task LoadAsync(ChunkStore store) => (Value, _etag) = await store.ReadAsync<T>(_key);

    public void Set(T value)
    {
        Value = value;
        _dirty = true;
    }

    /// <summary>The pending write of the current value, if it changed since the last one.</summary>
    public IPendingWrite? TakeChange()
    {
        if (!_dirty) return null;
        _dirty = false;
        return new Write(this, Value!);
    }

    private sealed class Write(SingleRow<T> row, T snapshot) : IPendingWrite
    {
        public async Task WriteAsync(ChunkStore store) => row._etag = await store.WriteAsync(row._key, snapshot, row._etag);
    }
}
