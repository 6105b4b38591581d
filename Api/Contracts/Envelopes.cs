using System.Text.Json.Serialization;

namespace Credentials.Api.Contracts;

/// <summary>The envelope's status object, as ibl.ai's API writes it.</summary>
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
