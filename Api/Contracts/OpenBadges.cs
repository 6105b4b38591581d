using System.Text.Json.Serialization;
using Credentials.Grains;

namespace Credentials.Api.Contracts;

// C1: an issuer as Open Badges verifiers resolve it. Properties are declared in the contract's
// order, which the source-generated serializer keeps; absent optional values are left out, not null.

/// <summary>An Open Badges 3.0 <c>Profile</c> (JSON-LD, VC 2.0 and OB 3.0 contexts).</summary>
public sealed record OpenBadgesProfile(
    [property: JsonPropertyName("@context")] IReadOnlyList<string> Context,
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] IReadOnlyList<string> Type,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("url"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Url,
    [property: JsonPropertyName("email"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Email,
    [property: JsonPropertyName("image"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] OpenBadgesImage? Image)
{
    public static readonly IReadOnlyList<string> Contexts =
        ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"];

    private static readonly IReadOnlyList<string> Types = ["Profile"];

    /// <param name="id">The document's own absolute URL.</param>
    public static OpenBadgesProfile From(string id, Issuer issuer) => new(
        Contexts, id, Types, issuer.Name, issuer.Url, issuer.Email,
        issuer.IconImage is { } icon ? new OpenBadgesImage(icon, "Image") : null);
}

/// <summary>An OB 3.0 <c>Image</c>: the issuer's iconImage URL.</summary>
public sealed record OpenBadgesImage(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type);

/// <summary>An Open Badges 2.0 <c>Issuer</c> profile (JSON-LD, the OB 2.0 context).</summary>
public sealed record OpenBadgesIssuerV2(
    [property: JsonPropertyName("@context")] string Context,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("url"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Url,
    [property: JsonPropertyName("email"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Email,
    [property: JsonPropertyName("image"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Image)
{
    public const string ContextUrl = "https://w3id.org/openbadges/v2";

    /// <param name="id">The document's own absolute URL.</param>
    public static OpenBadgesIssuerV2 From(string id, Issuer issuer) =>
        new(ContextUrl, "Issuer", id, issuer.Name, issuer.Url, issuer.Email, issuer.IconImage);
}
