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
/// With <paramref name="batches"/> a group commit's rows are written in one transaction
/// (<see cref="WriteAllAsync"/>): a change and the event that records it are stored together or not at all.
/// </remarks>
public sealed class ChunkStore(IGrainStorage storage, IChunkListing listing, SemaphoreSlim? writeGate = null, IChunkBatchWriter? batches = null)
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

    /// <summary>The batch the writes started by <see cref="WriteAllAsync"/> join instead of writing their row.</summary>
    private static readonly AsyncLocal<ChunkBatch?> OpenBatch = new();

    /// <summary>
    /// Writes a group commit's rows: in one transaction when the backend offers one, so a failure
    /// leaves none of them; otherwise one at a time in the order given, so a failure leaves those
    /// before it.
    /// </summary>
    public async Task WriteAllAsync(IReadOnlyList<IPendingWrite> writes)
    {
        // A blob row is written only in a batch: it is stored with the record that uses it, or not at all.
        if (batches is null || writes is [] or [not PendingBlob])
        {
            foreach (var write in writes) await write.WriteAsync(this);
            return;
        }
        var batch = new ChunkBatch();
        var started = new Task[writes.Count];
        OpenBatch.Value = batch;
        try
        {
            // Each write runs up to its row's WriteAsync or DeleteAsync, which joins the batch.
            for (var i = 0; i < writes.Count; i++) started[i] = writes[i].WriteAsync(this);
        }
        finally
        {
            OpenBatch.Value = null;
        }
        try
        {
            if (batch.Count > 0) batch.Complete(await WriteBatchAsync(batch));
        }
        catch (Exception ex)
        {
            batch.Fail(ex);
        }
        // The writes take their new etags (in the grain's turn), or all fail with the batch's exception.
        await Task.WhenAll(started);
    }

    private async Task<string?[]> WriteBatchAsync(ChunkBatch batch)
    {
        var org = OrgOf(batch.FirstKey);
        using var span = Telemetry.StartStorage("chunk commit", batch.FirstKey);
        var etags = await Task.Run(async () =>
        {
            WritingOrg.Value = org;
            var changes = batch.Serialize();
            if (writeGate is not null) await writeGate.WaitAsync();
            try
            {
                return await batches!.WriteAsync(changes, batch.Blobs);
            }
            finally
            {
                writeGate?.Release();
            }
        });
        var tag = new KeyValuePair<string, object?>("org", org);
        var deleted = batch.Deletions;
        RowsWritten.Add(etags.Length - deleted, tag);
        if (deleted > 0) RowsDeleted.Add(deleted, tag);
        return etags;
    }

    /// <summary>
    /// Whether a group commit stores blobs in its own transaction (<see cref="BlobWrite"/>): the
    /// backend keeps blobs in the same database as the chunk rows (PostgreSQL).
    /// </summary>
    public bool WritesBlobs => batches?.WritesBlobs == true;

    /// <summary>
    /// A blob to insert in the next group commit's transaction, before the rows that use it (kept as
    /// it is when the org already has a blob with this hash). Only where <see cref="WritesBlobs"/>.
    /// </summary>
    public IPendingWrite BlobWrite(string org, string sha256, byte[] content) =>
        WritesBlobs ? new PendingBlob(new BlobRow(org, sha256, content)) : throw new NotSupportedException("This backend stores blobs apart from its rows.");

    private sealed class PendingBlob(BlobRow row) : IPendingWrite
    {
        public Task WriteAsync(ChunkStore store) => OpenBatch.Value!.AddBlob(row);
    }

    /// <summary>Writes <paramref name="value"/> if the row still has <paramref name="etag"/>; returns the new etag.</summary>
    public Task<string?> WriteAsync<T>(string key, T value, string? etag) =>
        OpenBatch.Value is { } batch ? batch.Add(key, () => Serializer.Serialize(value).ToArray(), etag) : WriteRowAsync(key, value, etag);

    private static readonly StorageJsonSerializer Serializer = new();

    private async Task<string?> WriteRowAsync<T>(string key, T value, string? etag)
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
    public Task DeleteAsync(string key, string etag) =>
        OpenBatch.Value is { } batch ? batch.Add(key, null, etag) : DeleteRowAsync(key, etag);

    private async Task DeleteRowAsync(string key, string etag)
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

/// <summary>
/// Writes rows in one database transaction: every change or none. Each is checked against its
/// etag as the grain storage provider checks one row.
/// </summary>
public interface IChunkBatchWriter
{
    /// <summary>Whether <see cref="WriteAsync"/> takes blobs (their table is in the same database).</summary>
    bool WritesBlobs { get; }

    /// <summary>
    /// The new etag of each row (null for a deletion); a row not at its etag fails the whole batch.
    /// <paramref name="blobs"/> are inserted in the same transaction, each unless already stored.
    /// </summary>
    Task<string?[]> WriteAsync(IReadOnlyList<RowChange> changes, IReadOnlyList<BlobRow> blobs);
}

/// <summary>One row of a batch: its key, its new payload (null: delete it) and the etag it must still have.</summary>
public readonly record struct RowChange(string Key, byte[]? Payload, string? ETag);

/// <summary>A blob a batch stores with its rows: the org's bytes under their SHA-256 (lowercase hex).</summary>
public readonly record struct BlobRow(string Org, string Sha256, byte[] Content);

/// <summary>The rows a group commit's writes handed in, each waiting for the batch's outcome.</summary>
internal sealed class ChunkBatch
{
    private readonly List<(string Key, Func<byte[]>? Payload, string? ETag, TaskCompletionSource<string?> Done)> _rows = [];

    private readonly List<BlobRow> _blobs = [];
    private TaskCompletionSource? _blobsDone;

    public int Count => _rows.Count + _blobs.Count;

    public string FirstKey => _rows.Count > 0 ? _rows[0].Key : _blobs[0].Org;

    public IReadOnlyList<BlobRow> Blobs => _blobs;

    public Task AddBlob(BlobRow blob)
    {
        _blobs.Add(blob);
        return (_blobsDone ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
    }

    public int Deletions => _rows.Count(r => r.Payload is null);

    public Task<string?> Add(string key, Func<byte[]>? payload, string? etag)
    {
        var done = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _rows.Add((key, payload, etag, done));
        return done.Task;
    }

    /// <summary>The rows with their payloads serialized (off the grain's scheduler).</summary>
    public RowChange[] Serialize() => [.. _rows.Select(r => new RowChange(r.Key, r.Payload?.Invoke(), r.ETag))];

    public void Complete(string?[] etags)
    {
        for (var i = 0; i < _rows.Count; i++) _rows[i].Done.SetResult(etags[i]);
        _blobsDone?.SetResult();
    }

    public void Fail(Exception exception)
    {
        foreach (var row in _rows) row.Done.TrySetException(exception);
        _blobsDone?.TrySetException(exception);
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
