namespace Credentials.Api.Http;

/// <summary>
/// After routing, puts the request's org in the log scope, so every line logged while serving it
/// (in this process) can be found by org as well as by request id.
/// </summary>
public sealed class RequestLogScope(RequestDelegate next, ILogger<RequestLogScope> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (AccessLog.OrgOf(context) is not { } org)
        {
            await next(context);
            return;
        }
        using (logger.BeginScope(new KeyValuePair<string, object>[] { new("Org", org) }))
        {
            await next(context);
        }
    }
}
