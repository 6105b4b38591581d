using System.Text.Json.Serialization;

namespace Credentials.Api.Contracts;

/// <summary>The contract's image object: <c>image</c> is an absolute, content-addressed URL.</summary>
public sealed record ImageView(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("image")] string Image);

/// <summary>The upload form, for the OpenAPI document.</summary>
public sealed record ImageUploadForm(IFormFile Image, string? Name);
