using System.Globalization;
using Credentials.Grains.Storage;

namespace Credentials.Grains.Events;

/// <summary>
/// An org's event log (C4): events in id order, kept in bounded chunks like the org's other
/// collections, so appending rewrites the tail chunk only. Its chunk writes join the commit of the
/// change they record. Retention drops events from the front as the org commits, a bounded number
/// per commit. Not thread-safe: the org grain runs one turn at a time.
/// </summary>
public sealed class OrgEventLog(string org, EventOptions options)
{
    public const int EventsPerChunk = 128;
    /// <summary>Most events one commit drops: with compaction a few extra rows per commit at most, however much has expired.</summary>
    public const int MaxDropsPerCommit = 2 * EventsPerChunk;

    private readonly ChunkedCollection<OrgEvent> _events = new($"{org}/events", e => Key(e.Id), Size, EventsPerChunk);

    /// <summary>The id of the newest event ever recorded (0 when none): ids go on from it after a restart.</summary>
    public long LastId => _events.HighWater;

    public int Count => _events.Count;

    public OrgEvent this[int index] => _events[index];

    public Task<ChunkLoad> LoadAsync(ChunkStore store) => _events.LoadAsync(store);

    /// <summary>Records an event with the next id; it is stored by the next commit.</summary>
    public OrgEvent Append(string action, EventTarget target, EventActor actor, string? requestId, DateTimeOffset at)
    {
        var recorded = new OrgEvent(_events.NextSeq(), at, actor, action, target, requestId);
        _events.Add(recorded, recorded.Id);
        return recorded;
    }

    /// <summary>Drops what retention and the cap no longer keep (bounded per call), then takes the chunk writes.</summary>
    public List<IPendingWrite> TakeChanges(DateTimeOffset now)
    {
        _events.RemoveOldest(DroppableCount(now));
        return _events.TakeChanges();
    }

    private int DroppableCount(DateTimeOffset now)
    {
        var drop = Math.Max(0, _events.Count - options.MaxPerOrg);
        var cutoff = now - options.Retention;
        while (drop < _events.Count && drop < MaxDropsPerCommit && _events[drop].At < cutoff) drop++;
        return Math.Min(drop, MaxDropsPerCommit);
    }

    /// <summary>
    /// Events with an id above <paramref name="after"/> still within retention, oldest first: at
    /// most <paramref name="limit"/>, and no more than <paramref name="maxBytes"/> of them (always one).
    /// </summary>
    public EventPage Read(long after, int limit, DateTimeOffset now, long maxBytes)
    {
        var cutoff = now - options.Retention;
        var index = _events.FirstIndexAfter(after);
        while (index < _events.Count && _events[index].At < cutoff) index++;
        var page = new List<OrgEvent>(Math.Clamp(Math.Min(limit, _events.Count - index), 0, 1024));
        long bytes = 0;
        for (; index < _events.Count && page.Count < limit; index++)
        {
            var next = _events[index];
            var size = Size(next);
            if (page.Count > 0 && bytes + size > maxBytes) break;
            page.Add(next);
            bytes += size;
        }
        return new EventPage(page, index < _events.Count);
    }

    private static string Key(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>About the event's JSON size: its strings and a fixed overhead for names and numbers.</summary>
    private static int Size(OrgEvent e) =>
        128 + e.Action.Length + e.Target.Type.Length + e.Target.Id.Length + (e.Actor.Id?.Length ?? 0) + (e.RequestId?.Length ?? 0);
}
