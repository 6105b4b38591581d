using Credentials.Grains;
using Credentials.Grains.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Orleans.Networking.Shared;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Credentials.Api.Http;

/// <summary>
/// Turns what escaped a handler into problem+json: 503 with Retry-After when a dependency
/// (the database, the cluster) is down, the request's own status for bad requests Kestrel
/// refused, and a bare 500 otherwise. Never a stack trace.
/// </summary>
public sealed partial class StatusExceptionHandler(IProblemDetailsService problems, ILogger<StatusExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = Classify(exception);
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            LogUnavailable(logger, exception.GetType().Name);
            context.Response.Headers.RetryAfter = "5";
        }
        else if (status >= 500)
        {
            LogUnhandled(logger, exception);
        }
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
            Exception = null,
        });
    }

    private static (int Status, string Title, string Detail) Classify(Exception exception) => exception switch
    {
        BadHttpRequestException bad => (bad.StatusCode, "Bad Request", bad.StatusCode == 413
            ? "The request body is too large."
            : "The request could not be read."),
        // The grain's answer for a store it cannot reach, the API's own blob-store calls (driver,
        // pool-wait and I/O errors), and the cluster being out of reach.
        StorageUnavailableException or OrleansMessageRejectionException or ConnectionFailedException
            or GatewayTooBusyException or SocketConnectionException or ClientNotAvailableException
            => Unavailable,
        _ when StorageFailures.IsStorageFailure(exception) => Unavailable,
        OrleansException { InnerException: { } inner } => Classify(inner),
        _ => (500, "Internal Server Error", "An unexpected error occurred."),
    };

    private static readonly (int, string, string) Unavailable = (503, "Service Unavailable", "A dependency is unavailable; retry later.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answered 503: a dependency is unavailable ({ExceptionType}).")]
    private static partial void LogUnavailable(ILogger logger, string exceptionType);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception.")]
    private static partial void LogUnhandled(ILogger logger, Exception exception);
}
