using Credentials.Grains.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Credentials.Grains.Hosting;

/// <summary>
/// Whether the state database answers within 3 s; used by the API's and the silo's <c>/readyz</c>,
/// which register it as Unhealthy (silo) or Degraded (API) when it does not.
/// </summary>
public sealed class DatabaseHealthCheck(StorageBackend storage) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await storage.PingAsync(timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The registration decides what an unanswered ping means: unready (silo) or degraded (API).
            return new HealthCheckResult(context.Registration.FailureStatus, $"The {storage.Name} database did not answer.");
        }
    }
}
