using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Credentials.Api.Apis;

/// <summary>B5: liveness and readiness, no credentials.</summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        // Alive: the process answers. No dependency is checked, so a database outage never restarts pods.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        // Ready: the silo (or cluster) answers a grain call and the database answers a query.
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous();
        return app;
    }
}
