using Credentials.Api.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace Credentials.Api.Http;

/// <summary>
/// The problem+json answers an endpoint can give, as metadata for the OpenAPI document. A
/// <see cref="Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult"/> carries none, and most
/// problems come from the pipeline (authentication, rate limits, body limits, the exception
/// handler) rather than from a handler's return type.
/// </summary>
public static class ProblemResponses
{
    /// <summary>
    /// Declares <paramref name="statuses"/> (the endpoint's own: 404, 409, …) and, once every other
    /// convention has run, the ones its metadata implies (<see cref="Implied"/>). On a route group
    /// it covers every endpoint mapped in the group, later ones included.
    /// </summary>
    public static TBuilder ProducesProblems<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(endpoint =>
        {
            foreach (var status in statuses.Concat(Implied(endpoint.Metadata))) Declare(endpoint.Metadata, status);
        });
        return builder;
    }

    /// <summary>
    /// What the pipeline may answer before or around the handler: 401 and 403 where credentials
    /// are required, 409 and 422 where an Idempotency-Key is taken, 429 where rate limits apply, 413 and 415 where a body is taken, and 503
    /// (a dependency down, <see cref="StatusExceptionHandler"/>) unless the endpoint is credential-free.
    /// </summary>
    public static IEnumerable<int> Implied(IEnumerable<object> metadata)
    {
        if (RequiresCredentials(metadata))
        {
            yield return StatusCodes.Status401Unauthorized;
            yield return StatusCodes.Status403Forbidden;
        }
        if (metadata.OfType<IAcceptsMetadata>().Any())
        {
            yield return StatusCodes.Status413PayloadTooLarge;
            yield return StatusCodes.Status415UnsupportedMediaType;
        }
        if (IdempotencyOpenApi.TakesKey(metadata))
        {
            yield return StatusCodes.Status409Conflict;
            yield return StatusCodes.Status422UnprocessableEntity;
        }
        if (!metadata.OfType<DisableRateLimitingAttribute>().Any()) yield return StatusCodes.Status429TooManyRequests;
        if (!CredentialFree.IsCredentialFree(metadata)) yield return StatusCodes.Status503ServiceUnavailable;
    }

    /// <summary>An authorization policy applies and nothing allows anonymous callers.</summary>
    public static bool RequiresCredentials(IEnumerable<object> metadata) =>
        metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();

    private static void Declare(IList<object> metadata, int status)
    {
        if (metadata.OfType<IProducesResponseTypeMetadata>().Any(m => m.StatusCode == status)) return;
        // A 400 names the fields at fault (RouteKeysFilter, parsers): the validation shape.
        var body = status == StatusCodes.Status400BadRequest ? typeof(HttpValidationProblemDetails) : typeof(ProblemDetails);
        metadata.Add(new ProducesResponseTypeMetadata(status, body, ["application/problem+json"]));
    }
}
