using Credentials.Grains.Storage;

namespace Credentials.Grains.Webhooks;

/// <summary>
/// Orleans' reminder table kept as rows of our own storage (<see cref="ChunkStore"/>), so reminders
/// work on both backends (the AdoNet reminders provider has no SQLite) and need no table of their
/// own. Only webhooks register reminders, one each: a silo's range read scans them all and filters
/// by hash, which stays cheap at that count.
/// </summary>
public sealed class ChunkReminderTable(ChunkStore store) : IReminderTable
{
    private const string Prefix = "_reminders/";

    private static string KeyOf(GrainId grain, string name) => $"{Prefix}{grain}|{name}";

    public Task Init() => Task.CompletedTask;

    public async Task<ReminderTableData> ReadRows(GrainId grainId) =>
        new((await store.ReadAllAsync<StoredReminder>($"{Prefix}{grainId}|")).Where(r => r.Value is not null).Select(Entry));

    public async Task<ReminderTableData> ReadRows(uint begin, uint end)
    {
        var rows = await store.ReadAllAsync<StoredReminder>(Prefix);
        return new(rows.Where(r => r.Value is not null).Select(Entry).Where(e => InRange(e.GrainId.GetUniformHashCode(), begin, end)));
    }

    /// <summary>The ring range (begin, end], wrapping when begin is not below end.</summary>
    private static bool InRange(uint hash, uint begin, uint end) =>
        begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName)
    {
        var (value, etag) = await store.ReadAsync<StoredReminder>(KeyOf(grainId, reminderName));
        return value is null ? null : Entry(new StoredRow<StoredReminder>(KeyOf(grainId, reminderName), value, etag!, 0));
    }

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        var key = KeyOf(entry.GrainId, entry.ReminderName);
        var row = new StoredReminder(entry.GrainId.ToString(), entry.ReminderName, entry.StartAt, entry.Period.Ticks);
        // An upsert is unconditional: write over whatever version is there now.
        var (_, etag) = await store.ReadAsync<StoredReminder>(key);
        return await store.WriteAsync(key, row, etag);
    }

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        try
        {
            await store.DeleteAsync(KeyOf(grainId, reminderName), eTag);
            return true;
        }
        catch (Orleans.Storage.InconsistentStateException)
        {
            return false;
        }
    }

    public Task TestOnlyClearTable() => Task.CompletedTask;

    private static ReminderEntry Entry(StoredRow<StoredReminder> row) => new()
    {
        GrainId = GrainId.Parse(row.Value!.GrainId),
        ReminderName = row.Value.Name,
        StartAt = row.Value.StartAt,
        Period = TimeSpan.FromTicks(row.Value.PeriodTicks),
        ETag = row.ETag,
    };
}

/// <summary>One reminder as stored.</summary>
public sealed record StoredReminder(string GrainId, string Name, DateTime StartAt, long PeriodTicks);
