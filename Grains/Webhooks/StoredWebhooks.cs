namespace Credentials.Grains.Webhooks;

// The rows webhooks keep: the org's subscriptions (with the org's state) and each webhook's delivery state.

/// <summary>The org's webhooks, in one row like its tokens.</summary>
public sealed record WebhookSet(StoredWebhook[] Webhooks);

/// <summary>
/// One subscription. <paramref name="Secret"/> is the signing secret as <see cref="WebhookSecrets"/>
/// stores it; <paramref name="After"/> the org's last event id when it was created (only later events go out).
/// </summary>
public sealed record StoredWebhook(string Id, string Url, string[] Events, string Secret, DateTimeOffset Created, long After)
{
    public override string ToString() => $"StoredWebhook {{ Id = {Id}, Url = {Url} }}";
}

/// <summary>
/// A webhook's delivery state: the cursor (every event up to it delivered or skipped), the failures
/// of the event after it, when to try again, and the latest attempts, newest first.
/// </summary>
public sealed record DeliveryState(long Cursor, int Failures, DateTimeOffset? FailingSince, DateTimeOffset? RetryAt, DeliveryAttempt[] Attempts);
