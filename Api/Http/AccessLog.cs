using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Claims;
using Credentials.Api.Auth;
using Credentials.Grains;
using Credentials.Grains.Hosting;

namespace Credentials.Api.Http;

/// <summary>
/// One log line and one count per request: method, route template (never the raw path or query,
/// which may carry secrets), status, duration, org and request id. Per-org counters take their
/// org tag from <see cref="OrgTags"/>, so their cardinality stays bounded.
/// </summary>
public sealed partial class AccessLog(RequestDelegate next, ILogger<AccessLog> logger, OrgTags orgTags)
{
    public const string MeterName = "Credentials.Orleans.Requests";
    private static readonly Meter Meter = new(MeterName);
    /// <summary>Requests per org (bounded tag) and status class.</summary>
    public static readonly Counter<long> Requests = Meter.CreateCounter<long>(
        "credentials.org.requests", "{request}", "HTTP requests per org (tag bounded by Telemetry:MaxOrgTags) and status class.");
    /// <summary>Acknowledged changes: 2xx answers to POST, PUT, PATCH and DELETE.</summary>
    public static readonly Counter<long> Writes = Meter.CreateCounter<long>(
        "credentials.org.writes", "{write}", "Acknowledged writes (2xx to POST, PUT, PATCH, DELETE) per org (tag bounded by Telemetry:MaxOrgTags).");

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            Record(context, Stopwatch.GetElapsedTime(started));
        }
    }

    private void Record(HttpContext context, TimeSpan elapsed)
    {
        // The start-up warm-up's in-process reads are no client's requests.
        if (StartupWarmup.IsWarmupRequest(context)) return;
        var status = context.Response.StatusCode;
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)";
        var org = OrgOf(context);
        var method = context.Request.Method;
        if (route is "/healthz" or "/readyz")
        {
            // Probes arrive every few seconds from every kubelet: kept out of the log unless asked for.
            LogProbe(logger, method, route, status, elapsed.TotalMilliseconds, context.TraceIdentifier);
            return;
        }
        LogRequest(logger, method, route, status, elapsed.TotalMilliseconds, org ?? "-", context.TraceIdentifier);
        if (org is null) return;

        // Only an org that answered successfully may take one of the bounded tag values.
        var tag = orgTags.For(org, admit: status < 400);
        var statusClass = status switch { < 200 => "1xx", < 300 => "2xx", < 400 => "3xx", < 500 => "4xx", _ => "5xx" };
        Requests.Add(1, new KeyValuePair<string, object?>("org", tag), new KeyValuePair<string, object?>("status_class", statusClass));
        if (status is >= 200 and < 300 && !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method) && !HttpMethods.IsOptions(method))
        {
            Writes.Add(1, new KeyValuePair<string, object?>("org", tag));
        }
    }

    /// <summary>The org the request was about (its route) or, failing that, the credential's org; null unless a valid key.</summary>
    public static string? OrgOf(HttpContext context)
    {
        var org = context.GetRouteValue("org") as string ?? context.User.FindFirstValue(CredentialClaims.Org);
        return OrgKeys.IsValid(org) ? org : null;
    }

    [LoggerMessage(EventId = 1, EventName = "Request", Level = LogLevel.Information,
        Message = "{Method} {Route} {Status} {DurationMs:0.0} ms org={Org} request={RequestId}")]
    private static partial void LogRequest(ILogger logger, string method, string route, int status, double durationMs, string org, string requestId);

    [LoggerMessage(EventId = 2, EventName = "Probe", Level = LogLevel.Debug,
        Message = "{Method} {Route} {Status} {DurationMs:0.0} ms request={RequestId}")]
    private static partial void LogProbe(ILogger logger, string method, string route, int status, double durationMs, string requestId);
}
