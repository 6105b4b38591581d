using System.Globalization;
using System.Text.Json.Serialization;
using Credentials.Grains;

namespace Credentials.Api.Http;

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

public sealed record Status(
    [property: JsonPropertyName("success")] bool Success,
    [property: JsonPropertyName("description")] string Description)
{
    public static readonly Status Ok = new(true, "Ok");
    public static readonly Status Created = new(true, "Created");
    public static readonly Status Deleted = new(true, "Deleted");
}

/// <summary>ibl.ai's envelope: <c>{"status": {...}, "result": ...}</c>.</summary>
public sealed record Envelope<T>(
    [property: JsonPropertyName("status")] Status Status,
    [property: JsonPropertyName("result")] T Result);

/// <summary>A delete's answer: the status envelope without a result.</summary>
public sealed record StatusOnly([property: JsonPropertyName("status")] Status Status);

public sealed record IssuerList(
    [property: JsonPropertyName("next")] string? Next,
    [property: JsonPropertyName("previous")] string? Previous,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("data")] IssuerView[] Data,
    [property: JsonPropertyName("num_pages")] long NumPages,
    [property: JsonPropertyName("page_number")] long PageNumber,
    [property: JsonPropertyName("max_page_size")] int MaxPageSize);

public sealed record PlatformView(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("created")] string Created)
{
    public static PlatformView From(Platform platform) => new(
        platform.Key, platform.Name, Timestamp(platform.Created));

    /// <summary>How every date is written: UTC, microseconds, <c>Z</c> (as Django REST Framework does).</summary>
    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}

public sealed record CreatePlatformRequest(
    [property: JsonPropertyName("key")] string? Key,
    [property: JsonPropertyName("name")] string? Name);
