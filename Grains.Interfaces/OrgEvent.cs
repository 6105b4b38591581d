using System.Globalization;
using System.Text.Json;

namespace Credentials.Grains;

/// <summary>
/// One acknowledged change of an org (contract C4), recorded in the same commit as the change.
/// <see cref="Id"/> counts 1, 2, 3, … per org and is never reused. Never holds a secret.
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.org-event.v1")]
public sealed record OrgEvent(
    [property: Id(0)] long Id,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] EventActor Actor,
    [property: Id(3)] string Action,
    [property: Id(4)] EventTarget Target,
    [property: Id(5)] string? RequestId);

/// <summary>Who made the change: <see cref="Kind"/> is one of the constants below; <see cref="Id"/> the token name or user id (null for the super-admin).</summary>
[GenerateSerializer, Immutable, Alias("credentials.event-actor.v1")]
public sealed record EventActor([property: Id(0)] string Kind, [property: Id(1)] string? Id)
{
    public const string SuperAdmin = "super-admin";
    public const string OrgToken = "org-token";
    public const string User = "user";

    public static readonly EventActor Admin = new(SuperAdmin, null);
}

/// <summary>What changed: <see cref="Type"/> (platform, token, issuer, image) and its key; an image's id is its integer id as text.</summary>
[GenerateSerializer, Immutable, Alias("credentials.event-target.v1")]
public sealed record EventTarget([property: Id(0)] string Type, [property: Id(1)] string Id)
{
    public static EventTarget Platform(string key) => new("platform", key);
    public static EventTarget Token(string name) => new("token", name);
    public static EventTarget Issuer(string entityId) => new("issuer", entityId);
    public static EventTarget Image(long id) => new("image", id.ToString(CultureInfo.InvariantCulture));

    /// <summary>Images are numbered: their target id is a JSON integer.</summary>
    public bool IsNumeric => Type == "image";
}

/// <summary>The C4 action names.</summary>
public static class EventActions
{
    public const string PlatformCreated = "platform.created";
    public const string TokenCreated = "token.created";
    public const string TokenRevoked = "token.revoked";
    public const string IssuerCreated = "issuer.created";
    public const string IssuerReplaced = "issuer.replaced";
    public const string IssuerPatched = "issuer.patched";
    public const string IssuerDeleted = "issuer.deleted";
    public const string ImageCreated = "image.created";
    public const string ImageDeleted = "image.deleted";

    public static readonly IReadOnlyList<string> All =
    [
        PlatformCreated, TokenCreated, TokenRevoked, IssuerCreated, IssuerReplaced, IssuerPatched, IssuerDeleted, ImageCreated, ImageDeleted,
    ];
}

/// <summary>
/// One grain reply of an org's events, oldest first, bounded in count and bytes.
/// <see cref="More"/>: events after the last one exist (read on after its id).
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.event-page.v1")]
public sealed record EventPage(
    [property: Id(0)] IReadOnlyList<OrgEvent> Events,
    [property: Id(1)] bool More);

/// <summary>
/// The one JSON shape of an event (C4), for the events endpoint and webhook bodies alike:
/// <c>{"id","at","actor":{"kind","id"},"action","target":{"type","id"},"request_id"}</c>, and
/// <c>"org"</c> first when given.
/// </summary>
public static class OrgEventJson
{
    public static void Write(Utf8JsonWriter json, OrgEvent orgEvent, string? org = null)
    {
        json.WriteStartObject();
        if (org is not null) json.WriteString("org", org);
        json.WriteNumber("id", orgEvent.Id);
        json.WriteString("at", Timestamp(orgEvent.At));
        json.WriteStartObject("actor");
        json.WriteString("kind", orgEvent.Actor.Kind);
        json.WriteString("id", orgEvent.Actor.Id);
        json.WriteEndObject();
        json.WriteString("action", orgEvent.Action);
        json.WriteStartObject("target");
        json.WriteString("type", orgEvent.Target.Type);
        if (orgEvent.Target.IsNumeric && long.TryParse(orgEvent.Target.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            json.WriteNumber("id", number);
        else
            json.WriteString("id", orgEvent.Target.Id);
        json.WriteEndObject();
        json.WriteString("request_id", orgEvent.RequestId);
        json.WriteEndObject();
    }

    /// <summary>UTC with microseconds and <c>Z</c>, as every date of the API is written.</summary>
    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}

/// <summary>
/// Who is calling and under which request id, carried from the API to the org grain in Orleans'
/// <see cref="RequestContext"/> (it crosses the in-process call and the client-to-silo hop alike),
/// so no grain method needs an actor parameter.
/// </summary>
public static class RequestActor
{
    public const string KindKey = "credentials.actor.kind";
    public const string IdKey = "credentials.actor.id";
    public const string RequestIdKey = "credentials.request-id";

    /// <summary>Sets the caller for the grain calls made from here on in this async flow.</summary>
    public static void Set(EventActor actor, string? requestId)
    {
        RequestContext.Set(KindKey, actor.Kind);
        if (actor.Id is not null) RequestContext.Set(IdKey, actor.Id); else RequestContext.Remove(IdKey);
        if (requestId is not null) RequestContext.Set(RequestIdKey, requestId); else RequestContext.Remove(RequestIdKey);
    }

    /// <summary>
    /// The caller of the current grain call. A call that carries none (an operator command, a test
    /// calling the grain directly) is the platform's own: the super-admin.
    /// </summary>
    public static (EventActor Actor, string? RequestId) Current()
    {
        var requestId = RequestContext.Get(RequestIdKey) as string;
        if (RequestContext.Get(KindKey) is not string kind) return (EventActor.Admin, requestId);
        var id = RequestContext.Get(IdKey) as string;
        return (kind == EventActor.SuperAdmin && id is null ? EventActor.Admin : new EventActor(kind, id), requestId);
    }
}
