using System.Diagnostics.Metrics;
using System.Globalization;
using Credentials.Grains.Hosting;
using Orleans.Storage;

namespace Credentials.Grains.Storage;

/// <summary>
/// Reads and writes one bounded piece of an org's state (a "chunk") as its own row through the
/// AdoNet grain storage. Each chunk has a synthetic grain id, so the provider's optimistic
/// concurrency (its version column) guards every chunk on its own.
/// </summary>
/// <remarks>
/// Calls run on the thread pool, not the grain's scheduler: Microsoft.Data.Sqlite does its I/O
/// (and its busy-retry sleeps) synchronously, and an org must keep answering reads while its
/// batch is being made durable. With a <paramref name="writeGate"/> (SQLite: one writer per
/// database) writers from different orgs queue in memory instead of colliding in the database;
/// each org's next batch keeps growing while it waits, so group commit absorbs the queueing.
/// </remarks>
public sealed class ChunkStore(IGrainStorage storage, IChunkListing listing, SemaphoreSlim? writeGate = null)
{
    /// <summary>The state name the provider records as the row's grain type.</summary>
    public const string StateName = "credentials.chunk";
    private static readonly GrainType ChunkGrainType = GrainType.Create("credentials-chunk");

    public static readonly Meter Meter = new("Credentials.Orleans.Storage");
    /// <summary>Rows written; with <see cref="BytesWritten"/> it shows what one write touches.</summary>
    public static readonly Counter<long> RowsWritten = Meter.CreateCounter<long>("credentials.storage.rows_written");
    public static readonly Counter<long> BytesWritten = Meter.CreateCounter<long>("credentials.storage.bytes_written", "By");

    public async Task<(T? State, string? ETag)> ReadAsync<T>(string key)
    {
        var state = new GrainState<T>();
        using var span = Telemetry.StartStorage("chunk read", key);
        await Task.Run(() => storage.ReadStateAsync(StateName, GrainId.Create(ChunkGrainType, key), state));
        return state.RecordExists ? (state.State, state.ETag) : (default, null);
    }

    /// <summary>The keys of every row stored under <paramref name="prefix"/>, in no particular order.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string prefix)
    {
        using var span = Telemetry.StartStorage("chunk list", prefix);
        return await Task.Run(() => listing.ListKeysAsync(prefix));
    }

    /// <summary>
    /// Every row stored under <paramref name="prefix"/>, decoded, in no particular order: one query
    /// whatever the number of rows. A row without a payload comes back with a null value.
    /// </summary>
    public async Task<List<StoredRow<T>>> ReadAllAsync<T>(string prefix) where T : class
    {
        using var span = Telemetry.StartStorage("chunk read all", prefix);
        return await Task.Run(() => listing.ReadRowsAsync(prefix, static (key, version, payload, hasPayload) => new StoredRow<T>(
            key,
            hasPayload ? StorageJsonSerializer.Deserialize<T>(payload) : null,
            version.ToString(CultureInfo.InvariantCulture),
            payload.Length)));
    }

    /// <summary>Writes <paramref name="value"/> if the row still has <paramref name="etag"/>; returns the new etag.</summary>
    public async Task<string?> WriteAsync<T>(string key, T value, string? etag)
    {
        var state = new GrainState<T>(value, etag) { RecordExists = etag is not null };
        var org = OrgOf(key);
        using var span = Telemetry.StartStorage("chunk commit", key);
        await Task.Run(async () =>
        {
            // The provider calls the serializer inside this call; the org flows to it for the byte count.
            WritingOrg.Value = org;
            if (writeGate is not null) await writeGate.WaitAsync();
            try
            {
                await storage.WriteStateAsync(StateName, GrainId.Create(ChunkGrainType, key), state);
            }
            finally
            {
                writeGate?.Release();
            }
        });
        RowsWritten.Add(1, new KeyValuePair<string, object?>("org", org));
        return state.ETag;
    }

    /// <summary>Deletes the row if it still has <paramref name="etag"/> (the provider's clear, which our query makes a delete).</summary>
    public async Task DeleteAsync(string key, string etag)
    {
        var state = new GrainState<object?>(null, etag) { RecordExists = true };
        await Task.Run(async () =>
        {
            if (writeGate is not null) await writeGate.WaitAsync();
            try
            {
                await storage.ClearStateAsync(StateName, GrainId.Create(ChunkGrainType, key), state);
            }
            finally
            {
                writeGate?.Release();
            }
        });
        RowsDeleted.Add(1, new KeyValuePair<string, object?>("org", OrgOf(key)));
    }

    /// <summary>Rows deleted: chunks emptied by compaction.</summary>
    public static readonly Counter<long> RowsDeleted = Meter.CreateCounter<long>("credentials.storage.rows_deleted");

    internal static readonly AsyncLocal<string?> WritingOrg = new();

    internal static string OrgOf(string key)
    {
        var slash = key.IndexOf('/');
        return slash < 0 ? key : key[..slash];
    }
}

/// <summary>A row as read in bulk: its key, its decoded value (null when it holds none), its etag and payload size.</summary>
public sealed record StoredRow<T>(string Key, T? Value, string ETag, int PayloadBytes) where T : class;

/// <summary>Turns one row into a value while its payload is still in the reader's buffer (no copy is kept).</summary>
public delegate TRow ChunkRowDecoder<out TRow>(string key, int version, ReadOnlySpan<byte> payload, bool hasPayload);

/// <summary>
/// Lists and reads the chunk rows that exist under a key prefix. The grain storage provider reads
/// rows by key only, one round trip each; a collection needs every row, including any stranded
/// behind a gap, and an activation needs them all at once.
/// </summary>
public interface IChunkListing
{
    Task<IReadOnlyList<string>> ListKeysAsync(string prefix);

    /// <summary>Every row under <paramref name="prefix"/> with its version and payload, in one query.</summary>
    Task<List<TRow>> ReadRowsAsync<TRow>(string prefix, ChunkRowDecoder<TRow> decode);
}
