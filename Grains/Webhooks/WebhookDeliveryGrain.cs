using Credentials.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Credentials.Grains.Webhooks;

/// <summary>
/// Delivers one webhook's events, keyed <c>{org}/{webhook id}</c>. The org's event log is the
/// outbox; this grain's row holds the cursor, so delivery is at least once and in event order:
/// the cursor moves only past an event that was delivered (or does not match). It works outside
/// the org grain's turns; the org grain only pokes it. A failed attempt waits on a grain timer
/// (exponential backoff); a reminder wakes the grain after a restart or the loss of its silo.
/// </summary>
/// <remarks>Reentrant so the org grain can ask for its attempts while a delivery is under way; one delivery loop runs at a time.</remarks>
[Reentrant]
public sealed partial class WebhookDeliveryGrain(
    ChunkStore store, WebhookSender sender, WebhookSecrets secrets, IOptions<WebhookOptions> options, TimeProvider clock, ILogger<WebhookDeliveryGrain> logger)
    : Grain, IWebhookDeliveryGrain, IRemindable
{
    private const string ReminderName = "webhook-wake";
    public const int MaxAttemptsKept = 50;
    private const int BatchSize = 100;
    private static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(1);

    private string _org = null!;
    private string _id = null!;
    private string _rowKey = null!;
    private string? _etag;
    private long _cursor;
    private int _failures;
    private DateTimeOffset? _failingSince;
    private DateTimeOffset? _retryAt;
    private readonly LinkedList<DeliveryAttempt> _attempts = new();
    private DateTimeOffset _lastSaved;
    private bool _dirty;

    private bool _running;
    private bool _again;
    private bool _stopped;
    /// <summary>Whether the org's log was read since activation; until then a reminder tick must look.</summary>
    private bool _checked;
    private long _known;
    private IGrainTimer? _retryTimer;
    private (string Stored, byte[] Key)? _key;

    private WebhookOptions Options => options.Value;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/');
        (_org, _id) = (key[..slash], key[(slash + 1)..]);
        _rowKey = $"{_org}/webhook-deliveries/{_id}";
        var (state, etag) = await store.ReadAsync<DeliveryState>(_rowKey);
        _etag = etag;
        if (state is null) return;
        (_cursor, _failures, _failingSince, _retryAt) = (state.Cursor, state.Failures, state.FailingSince, state.RetryAt);
        foreach (var attempt in state.Attempts) _attempts.AddLast(attempt);
    }

    public async Task Start(long afterEventId)
    {
        if (_etag is not null) return;
        _cursor = Math.Max(_cursor, afterEventId);
        await SaveAsync();
    }

    public Task Poke(long lastEventId)
    {
        _known = Math.Max(_known, lastEventId);
        if (lastEventId > _cursor) Kick();
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // While active, pokes say when there is work; a fresh activation (restart, lost silo) looks once.
        if (!_checked || _known > _cursor || _retryAt is not null) Kick();
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DeliveryAttempt>> Attempts() => Task.FromResult<IReadOnlyList<DeliveryAttempt>>(_attempts.ToArray());

    public async Task Stop()
    {
        _stopped = true;
        _retryTimer?.Dispose();
        if (await this.GetReminder(ReminderName) is { } reminder) await this.UnregisterReminder(reminder);
        if (_etag is not null) await store.DeleteAsync(_rowKey, _etag);
        _etag = null;
        DeactivateOnIdle();
    }

    /// <summary>Starts the delivery loop, or asks the running one for another round.</summary>
    private void Kick()
    {
        if (_stopped) return;
        if (_running)
        {
            _again = true;
            return;
        }
        _running = true;
        _ = RunAsync();
    }

    private async Task RunAsync()
    {
        try
        {
            do
            {
                _again = false;
                await DeliverAsync();
            }
            while (_again && !_stopped);
        }
        catch (Orleans.Storage.InconsistentStateException ex)
        {
            // Another activation wrote the row (a brief duplicate after a silo loss): start again from storage.
            LogRoundFailed(logger, ex, _org, _id);
            DeactivateOnIdle();
        }
        catch (Exception ex)
        {
            // Storage or the org grain failed: try again later; the reminder covers a lost activation.
            LogRoundFailed(logger, ex, _org, _id);
            if (!_stopped) ScheduleRetry(clock.GetUtcNow() + Options.RetryDelay(1));
        }
        finally
        {
            _running = false;
        }
    }

    private async Task DeliverAsync()
    {
        var now = clock.GetUtcNow();
        if (_retryAt is { } due && due > now)
        {
            ScheduleRetry(due);
            return;
        }
        _retryAt = null;
        var org = GrainFactory.GetGrain<IOrgGrain>(_org);
        while (!_stopped)
        {
            var work = await org.TakeWebhookWork(_id, _cursor, BatchSize);
            _checked = true;
            _known = Math.Max(_known, work.LastEventId);
            if (work.Target is not { } target)
            {
                await Stop(); // the webhook was deleted
                return;
            }
            var key = SigningKey(target);
            foreach (var message in work.Messages)
            {
                if (_stopped || message.EventId <= _cursor) continue;
                var result = await sender.SendAsync(target.Url, key, $"{_org}:{message.EventId}", message.Body);
                Record(new DeliveryAttempt(message.EventId, clock.GetUtcNow(), result.Status, result.Error, result.Delivered));
                if (!result.Delivered)
                {
                    await FailedAsync(message.EventId, work.LastEventId);
                    return;
                }
                (_cursor, _failures, _failingSince) = (message.EventId, 0, null);
                if (clock.GetUtcNow() - _lastSaved >= SaveInterval) await SaveAsync();
            }
            var moved = work.ScannedTo > _cursor;
            _cursor = Math.Max(_cursor, work.ScannedTo);
            _dirty |= moved;
            if (_cursor >= work.LastEventId || (!moved && work.Messages.Count == 0)) break;
        }
        if (_dirty && !_stopped) await SaveAsync();
    }

    private async Task FailedAsync(long eventId, long lastEventId)
    {
        var now = clock.GetUtcNow();
        _failures++;
        _failingSince ??= now;
        if (now - _failingSince.Value >= TimeSpan.FromHours(Options.RetryWindowHours))
        {
            // Retried for the whole window: give up the backlog so the webhook is not stuck forever;
            // the receiver can read what it missed from the events feed.
            Record(new DeliveryAttempt(eventId, now, null,
                $"gave up after {Options.RetryWindowHours:0.##} h of failed attempts: events {eventId} to {lastEventId} were not delivered (read them from the events feed)", false));
            LogGaveUp(logger, _org, _id, eventId, lastEventId);
            (_cursor, _failures, _failingSince, _retryAt) = (Math.Max(_cursor, lastEventId), 0, null, null);
            await SaveAsync();
            _again = true;
            return;
        }
        _retryAt = now + Options.RetryDelay(_failures);
        await SaveAsync();
        ScheduleRetry(_retryAt.Value);
    }

    private void ScheduleRetry(DateTimeOffset due)
    {
        _retryTimer?.Dispose();
        var wait = due - clock.GetUtcNow();
        _retryTimer = this.RegisterGrainTimer(() =>
        {
            _retryTimer = null;
            Kick();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private byte[] SigningKey(WebhookTarget target)
    {
        if (_key is { } cached && cached.Stored == target.StoredSecret) return cached.Key;
        var secret = secrets.Unprotect(target.StoredSecret);
        var key = WebhookSecrets.SigningKey(secret);
        _key = (target.StoredSecret, key);
        return key;
    }

    private void Record(DeliveryAttempt attempt)
    {
        _attempts.AddFirst(attempt);
        while (_attempts.Count > MaxAttemptsKept) _attempts.RemoveLast();
        _dirty = true;
    }

    private async Task SaveAsync()
    {
        // The first save also registers the wake-up reminder: from then on, something wakes delivery.
        if (_etag is null) await this.RegisterOrUpdateReminder(ReminderName, TimeSpan.FromSeconds(Options.WakeSeconds), TimeSpan.FromSeconds(Options.WakeSeconds));
        var state = new DeliveryState(_cursor, _failures, _failingSince, _retryAt, _attempts.ToArray());
        _etag = await store.WriteAsync(_rowKey, state, _etag);
        _lastSaved = clock.GetUtcNow();
        _dirty = false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Org}/{Webhook}: a delivery round failed; it is tried again later.")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception, string org, string webhook);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Org}/{Webhook}: gave up events {First} to {Last} after the retry window.")]
    private static partial void LogGaveUp(ILogger logger, string org, string webhook, long first, long last);
}
