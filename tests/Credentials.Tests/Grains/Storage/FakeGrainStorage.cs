using System.Globalization;
using Orleans.Storage;

namespace Credentials.Tests.Grains.Storage;

/// <summary>An in-memory grain storage with the AdoNet provider's version semantics and a failure switch.</summary>
internal sealed class FakeGrainStorage : IGrainStorage
{
    private readonly Dictionary<GrainId, (object? State, int Version)> _rows = [];

    public bool Failing { get; set; }
    public int Writes { get; private set; }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.TryGetValue(grainId, out var row))
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
        if (Failing) throw new InvalidOperationException("storage is down");
        var current = _rows.TryGetValue(grainId, out var row) ? row.Version.ToString(CultureInfo.InvariantCulture) : null;
        if (current != grainState.ETag) throw new InconsistentStateException("version conflict", current, grainState.ETag);
        var version = (row.Version) + 1;
        _rows[grainId] = (grainState.State, version);
        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        Writes++;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => throw new NotSupportedException();
}
