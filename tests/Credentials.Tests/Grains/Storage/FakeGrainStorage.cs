using System.Globalization;
using Credentials.Grains.Storage;
using Orleans.Storage;

namespace Credentials.Tests.Grains.Storage;

/// <summary>
/// An in-memory grain storage with the AdoNet provider's version semantics (rows hold the JSON
/// payload, as in the database; clearing deletes the row, as our queries do), a failure switch, a
/// hook that runs before each row write or deletion (to hold or fail one), and a count of the
/// round trips that read.
/// </summary>
internal sealed class FakeGrainStorage : IGrainStorage, IChunkListing
{
    private static readonly StorageJsonSerializer Json = new();
    private readonly Dictionary<string, (byte[]? Payload, int Version)> _rows = new(StringComparer.Ordinal);

    public bool Failing { get; set; }
    public int Writes { get; private set; }
    /// <summary>Round trips that read: one per row read by key, one per listing or bulk read.</summary>
    public int Reads { get; private set; }

    /// <summary>Runs before a row is written or deleted, with the row's key; throwing fails that write.</summary>
    public Func<string, Task>? BeforeWrite { get; set; }

    public ChunkStore Store() => new(this, this);

    public bool Contains(string key) => _rows.ContainsKey(key);

    /// <summary>The keys of the rows under <paramref name="prefix"/>.</summary>
    public string[] Keys(string prefix) => [.. _rows.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    /// <summary>Puts a row in place behind the collection's back, as a past failure could have left it.</summary>
    public void Seed<T>(string key, T state) => _rows[key] = (state is null ? null : Json.Serialize(state).ToArray(), 1);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Reads++;
        if (_rows.TryGetValue(KeyOf(grainId), out var row))
        {
            grainState.State = row.Payload is null ? default! : Json.Deserialize<T>(new BinaryData(row.Payload));
            grainState.ETag = row.Version.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = await BeforeChangeAsync(grainId, grainState.ETag);
        var version = _rows.TryGetValue(key, out var row) ? row.Version + 1 : 1;
        _rows[key] = (Json.Serialize(grainState.State).ToArray(), version);
        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        Writes++;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = await BeforeChangeAsync(grainId, grainState.ETag);
        _rows.Remove(key);
        grainState.RecordExists = false;
        Writes++;
    }

    private async Task<string> BeforeChangeAsync(GrainId grainId, string? etag)
    {
        await Task.Yield();
        var key = KeyOf(grainId);
        if (BeforeWrite is { } hook) await hook(key);
        if (Failing) throw new InvalidOperationException("storage is down");
        var current = _rows.TryGetValue(key, out var row) ? row.Version.ToString(CultureInfo.InvariantCulture) : null;
        if (current != etag) throw new InconsistentStateException("version conflict", current, etag);
        return key;
    }

    public Task<IReadOnlyList<string>> ListKeysAsync(string prefix)
    {
        Reads++;
        return Task.FromResult<IReadOnlyList<string>>(Keys(prefix));
    }

    public Task<List<TRow>> ReadRowsAsync<TRow>(string prefix, ChunkRowDecoder<TRow> decode)
    {
        Reads++;
        var rows = new List<TRow>();
        foreach (var key in Keys(prefix))
        {
            var (payload, version) = _rows[key];
            rows.Add(decode(key, version, payload, payload is not null));
        }
        return Task.FromResult(rows);
    }

    private static string KeyOf(GrainId grainId) => grainId.Key.ToString()!;
}
