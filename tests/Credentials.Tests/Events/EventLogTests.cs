using Credentials.Grains;
using Credentials.Grains.Events;
using Credentials.Tests.Grains.Storage;

namespace Credentials.Tests.Events;

/// <summary>The event log on its own, over in-memory storage and a clock the test moves: retention, caps, ids.</summary>
public sealed class EventLogTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly FakeGrainStorage _storage = new();

    private static OrgEventLog NewLog(EventOptions? options = null) => new("org-a", options ?? new EventOptions());

    private static void Append(OrgEventLog log, DateTimeOffset at, int count = 1)
    {
        for (var i = 0; i < count; i++) log.Append(EventActions.IssuerCreated, EventTarget.Issuer("i" + i), EventActor.Admin, "req", at);
    }

    private async Task CommitAsync(OrgEventLog log, DateTimeOffset now)
    {
        foreach (var write in log.TakeChanges(now)) await write.WriteAsync(_storage.Store());
    }

    private async Task<OrgEventLog> ReloadAsync(EventOptions? options = null)
    {
        var log = NewLog(options);
        await log.LoadAsync(_storage.Store());
        return log;
    }

    [Fact]
    public async Task Ids_go_on_from_the_last_stored_one_after_a_reload()
    {
        var log = NewLog();
        Append(log, Start, 3);
        await CommitAsync(log, Start);

        var reloaded = await ReloadAsync();
        var next = reloaded.Append(EventActions.IssuerDeleted, EventTarget.Issuer("i0"), EventActor.Admin, null, Start);

        Assert.Equal(4, next.Id);
        Assert.Equal([1L, 2, 3, 4], Enumerable.Range(0, reloaded.Count).Select(i => reloaded[i].Id));
    }

    [Fact]
    public async Task Events_older_than_the_retention_are_dropped_by_the_next_commit_and_stay_dropped()
    {
        var log = NewLog(new EventOptions { RetentionDays = 90 });
        Append(log, Start, 3);
        Append(log, Start.AddDays(50), 2);
        await CommitAsync(log, Start.AddDays(50));

        var later = Start.AddDays(91);
        // Before any commit, a read already hides them.
        Assert.Equal([4L, 5], log.Read(0, 100, later, 1 << 20).Events.Select(e => e.Id));
        Append(log, later);
        await CommitAsync(log, later);

        var reloaded = await ReloadAsync();
        Assert.Equal([4L, 5, 6], Enumerable.Range(0, reloaded.Count).Select(i => reloaded[i].Id));
        Assert.Equal(6, reloaded.LastId);
    }

    [Fact]
    public async Task Even_when_every_event_expired_the_ids_go_on()
    {
        var log = NewLog(new EventOptions { RetentionDays = 1 });
        Append(log, Start, 5);
        await CommitAsync(log, Start);
        Append(log, Start.AddDays(2));
        await CommitAsync(log, Start.AddDays(2));
        // The next commit (and compaction) leaves the tail chunk, which keeps the counter.
        Append(log, Start.AddDays(4));
        await CommitAsync(log, Start.AddDays(4));

        var reloaded = await ReloadAsync();
        Assert.Equal([7L], Enumerable.Range(0, reloaded.Count).Select(i => reloaded[i].Id));
        Assert.Equal(8, reloaded.Append(EventActions.IssuerCreated, EventTarget.Issuer("x"), EventActor.Admin, null, Start.AddDays(4)).Id);
    }

    [Fact]
    public async Task One_commit_drops_a_bounded_number_of_expired_events_and_later_commits_the_rest()
    {
        var log = NewLog(new EventOptions { RetentionDays = 1 });
        const int old = 5 * OrgEventLog.MaxDropsPerCommit;
        Append(log, Start, old);
        await CommitAsync(log, Start);

        var later = Start.AddDays(2);
        Append(log, later);
        var writes = log.TakeChanges(later);
        Assert.Equal(old + 1 - OrgEventLog.MaxDropsPerCommit, log.Count);
        // Rows touched: the chunks the dropped events left and the tail, never the whole log.
        Assert.InRange(writes.Count, 1, 2 + OrgEventLog.MaxDropsPerCommit / OrgEventLog.EventsPerChunk + 1);
        foreach (var write in writes) await write.WriteAsync(_storage.Store());

        for (var i = 0; i < 5 && log.Count > 1; i++)
        {
            Append(log, later);
            await CommitAsync(log, later);
        }
        Assert.All(Enumerable.Range(0, log.Count), i => Assert.True(log[i].At >= later));
    }

    [Fact]
    public async Task The_log_keeps_at_most_its_cap_of_events_dropping_the_oldest()
    {
        var options = new EventOptions { MaxPerOrg = 1000 };
        var log = NewLog(options);
        for (var batch = 0; batch < 12; batch++)
        {
            Append(log, Start, 100);
            await CommitAsync(log, Start);
        }

        Assert.Equal(1000, log.Count);
        var reloaded = await ReloadAsync(options);
        Assert.Equal(1000, reloaded.Count);
        Assert.Equal(201, reloaded[0].Id);
        Assert.Equal(1200, reloaded.LastId);
    }

    [Fact]
    public void A_read_is_bounded_by_its_limit_and_its_bytes_and_says_whether_more_follow()
    {
        var log = NewLog();
        Append(log, Start, 10);

        var limited = log.Read(after: 2, limit: 3, Start, 1 << 20);
        Assert.Equal([3L, 4, 5], limited.Events.Select(e => e.Id));
        Assert.True(limited.More);

        var small = log.Read(after: 0, limit: 10, Start, maxBytes: 1);
        Assert.Single(small.Events);
        Assert.True(small.More);

        var last = log.Read(after: 8, limit: 10, Start, 1 << 20);
        Assert.Equal([9L, 10], last.Events.Select(e => e.Id));
        Assert.False(last.More);
    }
}
