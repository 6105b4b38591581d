using System.Globalization;
using Credentials.Grains.Storage;
using Orleans.Storage;

namespace Credentials.Tests.Grains.Storage;

/// <summary>
/// An in-memory grain storage with the AdoNet provider's version semantics, a failure switch, and
/// a hook that runs before each row write (to hold or fail one write).
/// </summary>
internal sealed class FakeGrainStorage : IGrainStorage, IChunkListing
{
    private readonly Dictionary<string, (object? State, int Version)> _rows = new(StringComparer.Ordinal);

    public bool Failing { get; set; }
    public int Writes { get; private set; }

    /// <summary>Runs before a row is written, with the row's key; throwing fails that write.</summary>
    public Func<string, Task>? BeforeWrite { get; set; }

    public ChunkStore Store() => new(this, this);

    public bool Contains(string key) => _rows.ContainsKey(key);

    /// <summary>Puts a row in place behind the collection's back, as a past failure could have left it.</summary>
    public void Seed<T>(string key, T state) => _rows[key] = (state, 1);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.TryGetValue(KeyOf(grainId), out var row))
        {
            grainState.State = (T)row.State!;
            grainState.ETag = row.Version.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await Task.Yield();
        var key = KeyOf(grainId);
        if (BeforeWrite is { } hook) await hook(key);
        if (Failing) throw new InvalidOperationException("storage is down");
        var current = _rows.TryGetValue(key, out var row) ? row.Version.ToString(CultureInfo.InvariantCulture) : null;
        if (current != grainState.ETag) throw new InconsistentStateException("version conflict", current, grainState.ETag);
        var version = row.Version + 1;
        _rows[key] = (grainState.State, version);
        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        Writes++;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => throw new NotSupportedException();

    public Task<IReadOnlyList<string>> ListKeysAsync(string prefix) =>
        Task.FromResult<IReadOnlyList<string>>(_rows.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToArray());

    private static string KeyOf(GrainId grainId) => grainId.Key.ToString()!;
}
