using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Credentials.Grains.Storage;

namespace Credentials.Tests.Infrastructure;

/// <summary>Counts the rows and bytes the storage layer writes, per org, while it is alive.</summary>
public sealed class StorageMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _rows = new();
    private readonly ConcurrentDictionary<string, long> _bytes = new();

    public StorageMeter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == ChunkStore.Meter) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? org = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "org") org = tag.Value as string;
            }
            if (org is null) return;
            var target = instrument == ChunkStore.RowsWritten ? _rows : _bytes;
            target.AddOrUpdate(org, value, (_, total) => total + value);
        });
        _listener.Start();
    }

    public long Rows(string org) => _rows.GetValueOrDefault(org);
    public long Bytes(string org) => _bytes.GetValueOrDefault(org);

    public void Dispose() => _listener.Dispose();
}
