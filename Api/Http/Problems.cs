using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Credentials.Api.Http;

/// <summary>
/// Every error the API writes itself, as RFC 9457 problem+json with status, title and detail;
/// validation errors add <c>errors</c>. The one place error bodies are made.
/// </summary>
public static class Problems
{
    public static ProblemHttpResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, "Bad Request", detail);

    public static ValidationProblem Invalid(IReadOnlyDictionary<string, string[]> errors, string? detail = null) =>
        TypedResults.ValidationProblem(
            errors,
            detail: detail ?? "One or more fields are invalid: " + string.Join(", ", errors.Keys) + ".",
            title: "Invalid input");

    public static ValidationProblem Invalid(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });

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

    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail });
}
