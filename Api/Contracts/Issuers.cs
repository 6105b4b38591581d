using System.Text.Json.Serialization;
using Credentials.Grains;

namespace Credentials.Api.Contracts;

// Issuer shapes on the wire (A3, A4).

/// <summary>The contract's issuer object. <c>org</c> is always the path's org.</summary>
public sealed record IssuerView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("org")] string Org,
    [property: JsonPropertyName("entityId")] string EntityId,
    [property: JsonPropertyName("signatories")] IReadOnlyDictionary<string, string> Signatories,
    [property: JsonPropertyName("url")] string? Url,
    [property: JsonPropertyName("iconImage")] string? IconImage,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("allowed_template_tags")] IReadOnlyList<string>? AllowedTemplateTags)
{
    public static IssuerView From(string org, Issuer issuer) => new(
        issuer.Name, org, issuer.EntityId, issuer.Signatories, issuer.Url, issuer.IconImage, issuer.Email,
        issuer.AllowedTemplateTags);
}

public sealed record IssuerList(
    [property: JsonPropertyName("next")] string? Next,
    [property: JsonPropertyName("previous")] string? Previous,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("data")] IssuerView[] Data,
    [property: JsonPropertyName("num_pages")] long NumPages,
    [property: JsonPropertyName("page_number")] long PageNumber,
    [property: JsonPropertyName("max_page_size")] int MaxPageSize);

/// <summary>The body of an issuer write, for the OpenAPI document (any of three encodings).</summary>
public sealed record IssuerWriteRequest(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("iconImage")] string? IconImage,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("url")] string? Url,
    [property: JsonPropertyName("allowed_template_tags")] IReadOnlyList<string>? AllowedTemplateTags,
    [property: JsonPropertyName("signatories")] IReadOnlyDictionary<string, string>? Signatories,
    [property: JsonPropertyName("entityId")] string? EntityId);
