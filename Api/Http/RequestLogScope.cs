namespace Credentials.Api.Http;

/// <summary>
/// After routing, puts the request's org in its log scope (<see cref="RequestLogState"/>), so every
/// line logged while serving it (in this process) can be found by org as well as by request id.
/// </summary>
public sealed class RequestLogScope(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Features.Get<RequestLogState>() is { } state) state.Org = AccessLog.OrgOf(context);
        return next(context);
    }
}
