using Credentials.Grains;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Credentials.Api.Http;

/// <summary>
/// The one mapping from a grain's <see cref="OutcomeStatus"/> to an HTTP answer. Success goes to
/// the handler's own result; every other status has its problem here. A status the endpoint's
/// call cannot answer (a bug, or a new status not mapped yet) throws
/// <see cref="UnexpectedOutcomeException"/>, logged and answered 500, never passed off as a 404.
/// </summary>
public static class OutcomeResults
{
    /// <summary>For calls that take no input the grain validates (reads, deletes, lists).</summary>
    public static Results<TOk, ProblemHttpResult> Map<T, TOk>(
        Outcome<T> outcome, string org, Func<T, TOk> ok, Func<ProblemHttpResult>? notFound = null)
        where TOk : IResult =>
        outcome.Succeeded ? ok(outcome.Value!) : Problem(outcome, org, notFound);

    /// <summary>For writes: an invalid input is answered with the grain's field errors.</summary>
    public static Results<TOk, ProblemHttpResult, ValidationProblem> MapWrite<T, TOk>(
        Outcome<T> outcome, string org, Func<T, TOk> ok, Func<ProblemHttpResult>? notFound = null)
        where TOk : IResult
    {
        if (outcome.Succeeded) return ok(outcome.Value!);
        if (outcome.Status == OutcomeStatus.Invalid) return Problems.Invalid(outcome.Errors!);
        return Problem(outcome, org, notFound);
    }

    /// <summary>
    /// The problem for a status that is not a success or a validation failure.
    /// <paramref name="notFound"/> is the endpoint's 404 for a missing item; without it, the call
    /// is not one that can miss an item.
    /// </summary>
    public static ProblemHttpResult Problem<T>(Outcome<T> outcome, string org, Func<ProblemHttpResult>? notFound = null) =>
        outcome.Status switch
        {
            OutcomeStatus.OrgNotFound => Problems.OrgNotFound(org),
            OutcomeStatus.NotFound when notFound is not null => notFound(),
            OutcomeStatus.QuotaExceeded => Problems.QuotaExceeded(outcome.Detail!),
            _ => throw new UnexpectedOutcomeException(outcome.Status),
        };
}

/// <summary>A grain answered with a status the calling endpoint does not expect.</summary>
public sealed class UnexpectedOutcomeException(OutcomeStatus status)
    : InvalidOperationException($"The org grain answered {status}, which this endpoint does not map.")
{
    public OutcomeStatus Status { get; } = status;
}
