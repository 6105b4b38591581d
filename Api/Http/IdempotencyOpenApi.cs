using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.OpenApi;

namespace Credentials.Api.Http;

/// <summary>How Idempotency-Key (C3) shows in the OpenAPI document: a header on every POST that takes one, and its 409 and 422.</summary>
public static class IdempotencyOpenApi
{
    /// <summary>A POST (every one is under <c>/api/</c>) that does not refuse the header.</summary>
    public static bool TakesKey(IEnumerable<object> metadata) =>
        metadata.OfType<IHttpMethodMetadata>().Any(m => m.HttpMethods.Contains(HttpMethods.Post))
        && !metadata.OfType<RefusesIdempotencyKey>().Any();

    public static void Describe(OpenApiOperation operation, IEnumerable<object> metadata)
    {
        if (!TakesKey(metadata)) return;
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = IdempotencyMiddleware.KeyHeader,
            In = ParameterLocation.Header,
            Required = false,
            Description = "Makes a retry safe: for 24 hours a repeat with the same key, credential and path replays the first answer "
                + $"(with `{IdempotencyMiddleware.ReplayedHeader}: true`) and changes nothing; the same key with another body → 422; "
                + "a repeat while the first still runs → 409. 5xx answers are not kept.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = IdempotencyMiddleware.MaxKeyLength, Pattern = "^[\\x20-\\x7E]+$" },
        });
    }
}
