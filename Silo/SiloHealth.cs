using Credentials.Api.Http;
using Credentials.Grains.Hosting;
using Credentials.Grains.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Credentials.Silo;

/// <summary>
/// The silo's probes, on the same paths as the API's: <c>/healthz</c> (the process answers) and
/// <c>/readyz</c> (the silo is an active cluster member and the database answers).
/// </summary>
public static class SiloHealth
{
    public static IServiceCollection AddSiloHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<ActiveMemberCheck>("silo", tags: ["ready"])
            .AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        return services;
    }

    public static void MapSiloHealth(this IEndpointRouteBuilder app)
    {
        // Alive: no dependency is checked, so a database outage never restarts silos.
        app.MapGet("/healthz", () => TypedResults.Text("Healthy"));
        app.MapGet("/readyz", async (HealthCheckService health, HttpContext context) =>
        {
            var report = await health.CheckHealthAsync(check => check.Tags.Contains("ready"), context.RequestAborted);
            if (report.Status == HealthStatus.Healthy) return Results.Text("Healthy");
            var failing = string.Join("; ", report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy)
                .Select(e => $"{e.Key}: {e.Value.Description}"));
            return Problems.Unavailable(context.Response, failing);
        });
    }

    /// <summary>Ready once the cluster lists this silo as active; not while joining or shutting down.</summary>
    private sealed class ActiveMemberCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
            return Task.FromResult(status == SiloStatus.Active
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"The silo is {status}."));
        }
    }
}
