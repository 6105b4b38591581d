using System.Globalization;
using System.Text.Json.Serialization;
using Credentials.Grains;

namespace Credentials.Api.Contracts;

// Platform (tenant) shapes on the wire (B2), and how every date is written.

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

/// <summary>A page of <c>GET /api/platforms/</c>, in Django REST Framework's limit/offset shape.</summary>
public sealed record PlatformList(
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("next")] string? Next,
    [property: JsonPropertyName("previous")] string? Previous,
    [property: JsonPropertyName("results")] PlatformView[] Results);

public sealed record CreatePlatformRequest(
    [property: JsonPropertyName("key")] string? Key,
    [property: JsonPropertyName("name")] string? Name);
