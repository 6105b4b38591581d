using Credentials.Api.Auth;
using Credentials.Api.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Credentials.Api.Apis;

/// <summary>
/// B5: liveness and readiness, mapped as endpoints so OpenAPI lists them. B6: they ignore
/// credentials and rate limits, and readiness shares one check per second among its callers, so a
/// flood costs them no grain call.
/// </summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Operations").WithoutCredentials().ProducesProblems();

        // Alive: the process answers. No dependency is checked, so a database outage never restarts pods.
        // HEAD too: load balancers and uptime checkers often probe with it.
        group.MapMethods("/healthz", ReadMethods.GetAndHead, () => TypedResults.Text("Healthy"))
            .WithName("Liveness")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .WithSummary("The process is alive.");

        // Ready: the silo (or cluster) answers a grain call. A silent database only degrades it (200,
        // body "Degraded: ..."): reads still come from grain memory, writes answer 503 themselves.
        group.MapMethods("/readyz", ReadMethods.GetAndHead, Ready)
            .WithName("Readiness")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .WithSummary("The Orleans cluster answers (a silent database is reported, not failed).")
            .ProducesProblems(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> Ready(ReadinessProbe readiness, StartupWarmup warmup, HttpContext context)
    {
        // Not ready before the bounded start-up warm-up has run (ADR 0012); unlike a silent database,
        // which only degrades readiness (ADR 0006), this keeps the node out of its Service.
        if (!warmup.IsDone) return Problems.Unavailable(context.Response, "warm-up: Warming up.");
        var report = await readiness.CheckAsync().WaitAsync(context.RequestAborted);
        if (report.Status == HealthStatus.Healthy) return TypedResults.Text("Healthy");
        if (report.Status == HealthStatus.Degraded) return TypedResults.Text("Degraded: " + Describe(report));
        return Problems.Unavailable(context.Response, Describe(report));
    }

    private static string Describe(HealthReport report) =>
        string.Join("; ", report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy)
            .Select(e => $"{e.Key}: {e.Value.Description}"));
}
