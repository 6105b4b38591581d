using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Credentials.Api.Http;

/// <summary>
/// Every error the API writes itself, as RFC 9457 problem+json with status, title and detail;
/// validation errors add <c>errors</c>. The one place error bodies are made: endpoints return
/// these results, and middleware, authentication handlers and the exception handler write them
/// with <see cref="WriteAsync"/>, so every body goes through the same problem-details service.
/// </summary>
/// <remarks>The silo compiles this file too (its readiness probe), so it depends on ASP.NET Core only.</remarks>
public static class Problems
{
    /// <summary>What a 503 tells the client to wait, in seconds.</summary>
    public const string RetryAfterSeconds = "5";

    public static ProblemHttpResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, "Bad Request", detail);

    public static ValidationProblem Invalid(IReadOnlyDictionary<string, string[]> errors, string? detail = null) =>
        TypedResults.ValidationProblem(
            errors,
            detail: detail ?? "One or more fields are invalid: " + string.Join(", ", errors.Keys) + ".",
            title: "Invalid input");

    public static ValidationProblem Invalid(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult Unauthorized() =>
        Problem(StatusCodes.Status401Unauthorized, "Unauthorized", "Authentication credentials were not provided or are not valid.");

    public static ProblemHttpResult Forbidden() =>
        Problem(StatusCodes.Status403Forbidden, "Forbidden", "You do not have permission to perform this action.");

    public static ProblemHttpResult OrgNotFound(string org) =>
        Problem(StatusCodes.Status404NotFound, "Not Found", $"Platform '{org}' does not exist.");

    public static ProblemHttpResult NotFound(string detail) => Problem(StatusCodes.Status404NotFound, "Not Found", detail);

    public static ProblemHttpResult UnsupportedMediaType(string detail) =>
        Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported Media Type", detail);

    public static ProblemHttpResult TooLarge(string detail) =>
        Problem(StatusCodes.Status413PayloadTooLarge, "Payload Too Large", detail);

    /// <summary>A write that would pass one of the org's byte limits (B6); <paramref name="detail"/> names the limit.</summary>
    public static ProblemHttpResult QuotaExceeded(string detail) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = StatusCodes.Status409Conflict,
            Type = "urn:credentials:quota-exceeded",
            Title = "Quota exceeded",
            Detail = detail,
        });

    /// <summary>A repeat of a request whose Idempotency-Key is still held by the first (C3).</summary>
    public static ProblemHttpResult IdempotencyKeyInUse(string? detail = null) =>
        Problem(StatusCodes.Status409Conflict, "Conflict", detail ?? "A request with this Idempotency-Key is still running; retry once it has been answered.");

    /// <summary>An Idempotency-Key sent again with a different body (C3).</summary>
    public static ProblemHttpResult IdempotencyKeyReused() =>
        Problem(StatusCodes.Status422UnprocessableEntity, "Unprocessable Entity", "This Idempotency-Key was used with a different request body; use a new key for a new request.");

    /// <summary>The body of a 429; the caller sends <c>Retry-After</c> with the same seconds.</summary>
    public static ProblemHttpResult TooManyRequests(int retryAfterSeconds) =>
        Problem(StatusCodes.Status429TooManyRequests, "Too Many Requests", $"Rate limit exceeded; retry after {retryAfterSeconds} s.");

    /// <summary>The body of a 503; the caller sends <c>Retry-After: <see cref="RetryAfterSeconds"/></c>.</summary>
    public static ProblemHttpResult Unavailable(string detail = "A dependency is unavailable; retry later.") =>
        Problem(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", detail);

    /// <summary>A 503 answered by an endpoint: sets <c>Retry-After</c> on the response and returns the body.</summary>
    public static ProblemHttpResult Unavailable(HttpResponse response, string detail)
    {
        response.Headers.RetryAfter = RetryAfterSeconds;
        return Unavailable(detail);
    }

    public static ProblemHttpResult Unexpected() =>
        Problem(StatusCodes.Status500InternalServerError, "Internal Server Error", "An unexpected error occurred.");

    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail });

    /// <summary>
    /// Writes <paramref name="problem"/> straight to the response, for code outside endpoints
    /// (middleware, authentication handlers, the exception handler): the status, the headers given
    /// and the body, exactly as an endpoint returning it would.
    /// </summary>
    public static Task WriteAsync(HttpContext context, ProblemHttpResult problem, string? retryAfter = null, string? wwwAuthenticate = null)
    {
        if (retryAfter is not null) context.Response.Headers.RetryAfter = retryAfter;
        if (wwwAuthenticate is not null) context.Response.Headers.WWWAuthenticate = wwwAuthenticate;
        return problem.ExecuteAsync(context);
    }

    /// <summary>401 with the scheme's challenge in <c>WWW-Authenticate</c>; the same body whichever scheme answers.</summary>
    public static Task WriteUnauthorizedAsync(HttpContext context, string challenge) =>
        WriteAsync(context, Unauthorized(), wwwAuthenticate: challenge);

    public static Task WriteForbiddenAsync(HttpContext context) => WriteAsync(context, Forbidden());

    /// <summary>429 with <c>Retry-After</c> in whole seconds (at least 1).</summary>
    public static Task WriteTooManyRequestsAsync(HttpContext context, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        return WriteAsync(context, TooManyRequests(seconds), retryAfter: seconds.ToString(CultureInfo.InvariantCulture));
    }
}
