using Credentials.Grains.Storage;
using Credentials.Grains.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Credentials.Grains;

// Webhook subscriptions (C5): kept with the org's state in one row; delivery runs in each
// webhook's own grain (WebhookDeliveryGrain), which this grain only pokes after a commit with events.
public sealed partial class OrgGrain
{
    private SingleRow<WebhookSet> _webhooks = null!;
    private WebhookOptions WebhookOptions => ServiceProvider.GetRequiredService<IOptions<WebhookOptions>>().Value;
    private WebhookSecrets WebhookSecrets => ServiceProvider.GetRequiredService<WebhookSecrets>();

    private IWebhookDeliveryGrain Delivery(string id) => GrainFactory.GetGrain<IWebhookDeliveryGrain>($"{Org}/{id}");

    private StoredWebhook[] LiveWebhooks => _webhooks.Value?.Webhooks ?? [];

    public async Task<Outcome<CreatedWebhook>> CreateWebhook(string? url, string[]? events)
    {
        if (_platform is null) return Outcome<CreatedWebhook>.OrgNotFound;
        var options = WebhookOptions;
        var (target, urlError) = WebhookRules.Url(url, options.AllowInsecureTargets);
        var (filter, eventsError) = WebhookRules.Events(events);
        var errors = new Dictionary<string, string[]>();
        if (urlError is not null) errors["url"] = [urlError];
        if (eventsError is not null) errors["events"] = [eventsError];
        if (errors.Count > 0) return Outcome<CreatedWebhook>.Invalid(errors);
        if (CapError() is { } full) return full;
        if (!options.AllowInsecureTargets
            && await WebhookRules.HostError(target!, ServiceProvider.GetRequiredService<TargetResolver>(), CancellationToken.None) is { } hostError)
        {
            return Outcome<CreatedWebhook>.Invalid("url", hostError);
        }
        if (CapError() is { } fullNow) return fullNow; // the resolution awaited: look again

        var secret = WebhookSecrets.NewSecret();
        var created = clock.GetUtcNow();
        created = created.AddTicks(-(created.Ticks % TimeSpan.TicksPerMillisecond));
        // Only events recorded after the subscription go out; one appended but not yet durable is after it.
        var after = LastEventId;
        var webhook = new StoredWebhook(WebhookRules.NewId(), url!, filter!, WebhookSecrets.Protect(secret), created, after);
        _webhooks.Set(new WebhookSet([.. LiveWebhooks, webhook]));
        await _commit.CommitAsync();
        await Delivery(webhook.Id).Start(after);
        return new Outcome<CreatedWebhook>(OutcomeStatus.Created, new CreatedWebhook(Info(webhook), secret));

        Outcome<CreatedWebhook>? CapError() => LiveWebhooks.Length >= WebhookOptions.MaxPerOrg
            ? Outcome<CreatedWebhook>.Invalid("url", $"A platform may hold at most {WebhookOptions.MaxPerOrg} webhooks.")
            : null;
    }

    /// <summary>
    /// At activation: secrets kept plain by an earlier release, or sealed under a previous key, are
    /// sealed under the current key in memory; the org's next commit writes them (ADR 0019).
    /// </summary>
    private void ResealWebhookSecrets()
    {
        var live = LiveWebhooks;
        StoredWebhook[]? resealed = null;
        for (var i = 0; i < live.Length; i++)
        {
            string? stored;
            try
            {
                stored = WebhookSecrets.Reseal(live[i].Secret);
            }
            catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or FormatException)
            {
                // Left as it is: its deliveries fail (and say so) until the key that sealed it is configured.
                LogWebhookSecretUnreadable(logger, ex, Org, live[i].Id);
                continue;
            }
            if (stored is null) continue;
            resealed ??= (StoredWebhook[])live.Clone();
            resealed[i] = live[i] with { Secret = stored };
        }
        if (resealed is not null) _webhooks.Set(new WebhookSet(resealed));
    }

    public Task<Outcome<IReadOnlyList<WebhookInfo>>> ListWebhooks()
    {
        if (_platform is null) return Task.FromResult(Outcome<IReadOnlyList<WebhookInfo>>.OrgNotFound);
        IReadOnlyList<WebhookInfo> list = LiveWebhooks.Select(Info).ToArray();
        return Task.FromResult(new Outcome<IReadOnlyList<WebhookInfo>>(OutcomeStatus.Ok, list));
    }

    public async Task<Outcome<bool>> DeleteWebhook(string id)
    {
        if (_platform is null) return Outcome<bool>.OrgNotFound;
        var live = LiveWebhooks;
        if (!live.Any(w => w.Id == id)) return Outcome<bool>.NotFound;
        _webhooks.Set(new WebhookSet(live.Where(w => w.Id != id).ToArray()));
        await _commit.CommitAsync();
        try
        {
            await Delivery(id).Stop();
        }
        catch (Exception ex)
        {
            // The deletion is durable; the delivery grain finds the webhook gone at its next wake-up and stops itself.
            LogWebhookStopFailed(logger, ex, Org, id);
        }
        return new Outcome<bool>(OutcomeStatus.Ok, true);
    }

    public async Task<Outcome<IReadOnlyList<DeliveryAttempt>>> ListWebhookAttempts(string id)
    {
        if (_platform is null) return Outcome<IReadOnlyList<DeliveryAttempt>>.OrgNotFound;
        if (!LiveWebhooks.Any(w => w.Id == id)) return Outcome<IReadOnlyList<DeliveryAttempt>>.NotFound;
        return new Outcome<IReadOnlyList<DeliveryAttempt>>(OutcomeStatus.Ok, await Delivery(id).Attempts());
    }

    /// <summary>Most events one round scans for matches, so a narrow filter over a long log stays a bounded turn.</summary>
    private const int WebhookScanLimit = 1000;

    /// <summary>The newest event known durable: a delivery never sends an event whose commit may still fail.</summary>
    private long LastEventId => _notifiedEventId;

    public Task<WebhookWork> TakeWebhookWork(string id, long after, int max)
    {
        var webhook = LiveWebhooks.FirstOrDefault(w => w.Id == id);
        if (webhook is null || _platform is null) return Task.FromResult(new WebhookWork(null, [], after, LastEventId));
        after = Math.Max(after, webhook.After);
        var committed = LastEventId;
        var scanned = after;
        var messages = new List<WebhookMessage>();
        if (after < committed)
        {
            var page = _events.Read(after, WebhookScanLimit, clock.GetUtcNow(), limits.Value.MaxReplyBytes);
            // Reaching the end covers the events past retention (gone from the page) and those not yet durable.
            var reachedEnd = !page.More;
            foreach (var orgEvent in page.Events)
            {
                if (orgEvent.Id > committed)
                {
                    reachedEnd = true;
                    break;
                }
                if (messages.Count == max)
                {
                    reachedEnd = false;
                    break;
                }
                scanned = orgEvent.Id;
                if (WebhookRules.Matches(webhook.Events, orgEvent.Action)) messages.Add(new WebhookMessage(orgEvent.Id, Body(orgEvent)));
            }
            if (reachedEnd) scanned = committed;
        }
        return Task.FromResult(new WebhookWork(new WebhookTarget(webhook.Url, webhook.Secret), messages, scanned, committed));
    }

    private byte[] Body(OrgEvent orgEvent)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer)) OrgEventJson.Write(json, orgEvent, Org);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Pokes every webhook once events up to <paramref name="lastEventId"/> are durable; never waits for them.</summary>
    partial void OnEventsCommitted(long lastEventId)
    {
        foreach (var webhook in LiveWebhooks) _ = Delivery(webhook.Id).Poke(lastEventId);
    }

    private static WebhookInfo Info(StoredWebhook webhook) => new(webhook.Id, webhook.Url, webhook.Events, webhook.Created);

    [LoggerMessage(Level = LogLevel.Error, Message = "Org {Org}: no configured key opens webhook {Webhook}'s signing secret; its deliveries fail until the key that sealed it is in Webhooks:SecretKey or Webhooks:PreviousSecretKeys.")]
    private static partial void LogWebhookSecretUnreadable(ILogger logger, Exception exception, string org, string webhook);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Org {Org}: webhook {Webhook} was deleted but its delivery grain did not stop; it stops at its next wake-up.")]
    private static partial void LogWebhookStopFailed(ILogger logger, Exception exception, string org, string webhook);
}

