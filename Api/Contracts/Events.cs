using System.Text.Json;
using System.Text.Json.Serialization;

namespace Credentials.Api.Contracts;

// Org event shapes on the wire (C4). The answer is written by OrgEventJson (shared with webhook
// bodies); these records describe it for the OpenAPI document.

/// <summary>A page of <c>GET /api/platforms/{org}/events/</c>: oldest first; <c>next</c> reads on after the last one.</summary>
public sealed record EventList(
    [property: JsonPropertyName("events")] EventView[] Events,
    [property: JsonPropertyName("next")] string? Next);

public sealed record EventView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("at")] string At,
    [property: JsonPropertyName("actor")] EventActorView Actor,
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("target")] EventTargetView Target,
    [property: JsonPropertyName("request_id")] string? RequestId);

/// <summary><c>kind</c>: super-admin, org-token or user; <c>id</c>: the token name or user id, null for the super-admin.</summary>
public sealed record EventActorView(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("id")] string? Id);

/// <summary><c>type</c>: platform, token, issuer or image; <c>id</c>: its key, an integer for an image.</summary>
public sealed record EventTargetView(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("id")] JsonElement Id);
