using Credentials.Grains;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Credentials.Api.Http;

/// <summary>
/// The readiness checks (tag <c>ready</c>), run at most once per <see cref="Lifetime"/>: callers in
/// between share the last verdict, or the check under way.
/// </summary>
public sealed class ReadinessProbe(HealthCheckService health, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);
    private readonly Lock _gate = new();
    private Task<HealthReport>? _check;
    private long _started;

    public Task<HealthReport> CheckAsync()
    {
        lock (_gate)
        {
            var now = clock.GetTimestamp();
            if (_check is not null && (!_check.IsCompleted || clock.GetElapsedTime(_started, now) < Lifetime)) return _check;
            _started = now;
            // Not tied to one caller's request: the others share it.
            return _check = health.CheckHealthAsync(check => check.Tags.Contains("ready"), CancellationToken.None);
        }
    }
}

/// <summary>Ready when a grain call round-trips through the silo (co-hosted or remote).</summary>
public sealed class ClusterHealthCheck(IGrainFactory grains) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await grains.GetGrain<IProbeGrain>(0).Ping().WaitAsync(TimeSpan.FromSeconds(3), cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The Orleans cluster did not answer.");
        }
    }
}
