using Credentials.Grains.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Credentials.Grains;

// The org's event log (C4): every acknowledged change records one event in the same commit.
public sealed partial class OrgGrain
{
    public const int MaxEventsPerRead = 1000;

    private OrgEventLog _events = null!;
    /// <summary>The newest event id <see cref="OnEventsCommitted"/> was told of.</summary>
    private long _notifiedEventId;

    private OrgEventLog NewEventLog() =>
        new(Org, ServiceProvider.GetService<IOptions<EventOptions>>()?.Value ?? new EventOptions());

    /// <summary>
    /// Records the event of a change just made in memory (in the same turn), then waits for the
    /// commit that stores change and event together. The actor and request id come from the call's
    /// <see cref="RequestContext"/> (<see cref="RequestActor"/>).
    /// </summary>
    private async Task CommitChangeAsync(string action, EventTarget target)
    {
        var (actor, requestId) = RequestActor.Current();
        var recorded = _events.Append(action, target, actor, requestId, clock.GetUtcNow());
        await _commit.CommitAsync();
        // Every event up to this one was taken by this batch or an earlier one: all are durable.
        if (recorded.Id > _notifiedEventId)
        {
            _notifiedEventId = recorded.Id;
            OnEventsCommitted(recorded.Id);
        }
    }

    /// <summary>
    /// Runs in the grain's turn once every event up to <paramref name="lastEventId"/> is durable
    /// (at most once per id, in increasing order). For change feeds (webhooks): it must not block
    /// or await; start work elsewhere.
    /// </summary>
    partial void OnEventsCommitted(long lastEventId);

    public Task<Outcome<EventPage>> ReadEvents(long after, int limit)
    {
        if (_platform is null) return Task.FromResult(Outcome<EventPage>.OrgNotFound);
        var page = _events.Read(Math.Max(0, after), Math.Clamp(limit, 1, MaxEventsPerRead), clock.GetUtcNow(), limits.Value.MaxReplyBytes);
        return Task.FromResult(new Outcome<EventPage>(OutcomeStatus.Ok, page));
    }
}
