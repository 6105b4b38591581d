using System.Text.Json.Serialization;

namespace Credentials.Api.Contracts;

// Webhook shapes on the wire (C5): the secret appears only in WebhookCreatedView.

public sealed record CreateWebhookRequest(
    [property: JsonPropertyName("url")] string? Url,
    [property: JsonPropertyName("events")] string[]? Events);

public sealed record WebhookCreatedView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("events")] string[] Events,
    [property: JsonPropertyName("secret")] string Secret,
    [property: JsonPropertyName("created")] string Created);

public sealed record WebhookView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("events")] string[] Events,
    [property: JsonPropertyName("created")] string Created);

/// <summary>The latest delivery attempts of a webhook, newest first.</summary>
public sealed record DeliveryList([property: JsonPropertyName("deliveries")] DeliveryView[] Deliveries);

/// <summary>
/// One attempt: <c>status</c> is the receiver's HTTP status (null when there was none, then
/// <c>error</c> says why); <c>delivered</c> is true for a 2xx.
/// </summary>
public sealed record DeliveryView(
    [property: JsonPropertyName("event_id")] long EventId,
    [property: JsonPropertyName("at")] string At,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("delivered")] bool Delivered);
