using Credentials.Grains;
using Credentials.Grains.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Orleans.Networking.Shared;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Credentials.Api.Http;

/// <summary>
/// Turns what escaped a handler into problem+json: 503 with Retry-After when a dependency
/// (the database, the cluster) is down, the request's own status for bad requests Kestrel
/// refused, and a bare 500 otherwise. Never a stack trace.
/// </summary>
public sealed partial class StatusExceptionHandler(ILogger<StatusExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = Classify(exception);
        var status = problem.StatusCode;
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            LogUnavailable(logger, exception.GetType().Name);
        }
        else if (status >= 500)
        {
            LogUnhandled(logger, exception);
        }
        await Problems.WriteAsync(context, problem,
            retryAfter: status == StatusCodes.Status503ServiceUnavailable ? Problems.RetryAfterSeconds : null);
        return true;
    }

    private static ProblemHttpResult Classify(Exception exception) => exception switch
    {
        BadHttpRequestException bad => Problems.Problem(bad.StatusCode, "Bad Request", bad.StatusCode == 413
            ? "The request body is too large."
            : "The request could not be read."),
        // The grain's answer for a store it cannot reach, the API's own blob-store calls (driver,
        // pool-wait and I/O errors), and the cluster being out of reach.
        StorageUnavailableException or OrleansMessageRejectionException or ConnectionFailedException
            or GatewayTooBusyException or SocketConnectionException or ClientNotAvailableException
            => Problems.Unavailable(),
        _ when StorageFailures.IsStorageFailure(exception) => Problems.Unavailable(),
        Images.RenderersBusyException => Problems.Unavailable("Every image renderer is busy; retry later."),
        OrleansException { InnerException: { } inner } => Classify(inner),
        _ => Problems.Unexpected(),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answered 503: a dependency is unavailable ({ExceptionType}).")]
    private static partial void LogUnavailable(ILogger logger, string exceptionType);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception.")]
    private static partial void LogUnhandled(ILogger logger, Exception exception);
}
