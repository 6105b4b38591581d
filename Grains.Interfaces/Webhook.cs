namespace Credentials.Grains;

/// <summary>A webhook subscription as listed: never its secret.</summary>
[GenerateSerializer, Immutable, Alias("credentials.webhook.v1")]
public sealed record WebhookInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] string Url,
    [property: Id(2)] string[] Events,
    [property: Id(3)] DateTimeOffset Created);

/// <summary>A webhook just created: the only time its signing secret leaves the silo.</summary>
[GenerateSerializer, Immutable, Alias("credentials.created-webhook.v1")]
public sealed record CreatedWebhook(
    [property: Id(0)] WebhookInfo Webhook,
    [property: Id(1)] string Secret)
{
    // Records print every property; a secret must not reach a log line that way.
    public override string ToString() => $"CreatedWebhook {{ Webhook = {Webhook}, Secret = *** }}";
}

/// <summary>One delivery attempt: the event, when, and the receiver's status or why there was none.</summary>
[GenerateSerializer, Immutable, Alias("credentials.webhook-attempt.v1")]
public sealed record DeliveryAttempt(
    [property: Id(0)] long EventId,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] int? Status,
    [property: Id(3)] string? Error,
    [property: Id(4)] bool Delivered);

/// <summary>
/// What a webhook's delivery grain needs from the org for its next round: where to send (null when
/// the webhook no longer exists), the matching events after its cursor as bodies, and how far the
/// org's log was scanned (events that do not match, or no longer retained, still move the cursor).
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.webhook-work.v1")]
public sealed record WebhookWork(
    [property: Id(0)] WebhookTarget? Target,
    [property: Id(1)] IReadOnlyList<WebhookMessage> Messages,
    [property: Id(2)] long ScannedTo,
    [property: Id(3)] long LastEventId);

/// <summary>One event as its webhook body: the C4 event plus <c>"org"</c>, as UTF-8 JSON.</summary>
[GenerateSerializer, Immutable, Alias("credentials.webhook-message.v1")]
public sealed record WebhookMessage(
    [property: Id(0)] long EventId,
    [property: Id(1)] byte[] Body);

/// <summary>Where and how a webhook's deliveries go; the secret as stored (see WebhookSecrets).</summary>
[GenerateSerializer, Immutable, Alias("credentials.webhook-target.v1")]
public sealed record WebhookTarget(
    [property: Id(0)] string Url,
    [property: Id(1)] string StoredSecret)
{
    public override string ToString() => $"WebhookTarget {{ Url = {Url} }}";
}

/// <summary>
/// Delivers one webhook's events in order, keyed <c>{org}/{webhook id}</c>. The org grain pokes it
/// after a commit that added events; a reminder wakes it after a restart or silo loss.
/// </summary>
[Alias("credentials.webhook-delivery")]
public interface IWebhookDeliveryGrain : IGrainWithStringKey
{
    /// <summary>New events up to <paramref name="lastEventId"/> exist; one-way, so no write waits for it.</summary>
    [Alias("poke"), Orleans.Concurrency.OneWay]
    Task Poke(long lastEventId);

    /// <summary>Starts delivering after <paramref name="afterEventId"/> and registers the wake-up reminder.</summary>
    [Alias("start")]
    Task Start(long afterEventId);

    /// <summary>The webhook was deleted: drop the cursor and the reminder.</summary>
    [Alias("stop")]
    Task Stop();

    [Alias("attempts"), Orleans.Concurrency.ReadOnly]
    Task<IReadOnlyList<DeliveryAttempt>> Attempts();
}
