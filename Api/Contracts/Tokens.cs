using System.Text.Json.Serialization;

namespace Credentials.Api.Contracts;

// Org API token shapes on the wire (B2): the secret appears only in TokenCreatedView.

public sealed record CreateTokenRequest([property: JsonPropertyName("name")] string? Name);

public sealed record TokenCreatedView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("created")] string Created);

public sealed record TokenView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("created")] string Created);
