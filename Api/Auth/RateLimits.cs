using System.Threading.RateLimiting;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Microsoft.AspNetCore.RateLimiting;

namespace Credentials.Api.Auth;

/// <summary>
/// B2b and B6, on each API node: calls with valid credentials get ASP.NET Core's rate limiter, one
/// token bucket per credential (per user within its org for user tokens); calls without valid
/// credentials (none, or refused) draw on their client address's bucket
/// (<see cref="ClientAddressLimiter"/>), which authentication consults before it asks any grain.
/// </summary>
public static class RateLimits
{
    public static IServiceCollection AddCredentialsRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitingOptions>().Bind(configuration.GetSection("RateLimiting")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ClientAddressLimiter>();
        var settings = configuration.GetSection("RateLimiting").Get<RateLimitingOptions>() ?? new RateLimitingOptions();
        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                // Partitions only for valid credentials, so their number is bounded by real callers; the
                // start-up warm-up's in-process reads draw on nobody's budget.
                if (!settings.Enabled || context.User.RateLimitKey() is not { } key || StartupWarmup.IsWarmupRequest(context)) return RateLimitPartition.GetNoLimiter("none");
                return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = settings.Burst,
                    TokensPerPeriod = settings.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            options.OnRejected = (context, _) => new ValueTask(Problems.WriteTooManyRequestsAsync(context.HttpContext,
                context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.Zero));
        });
        return services;
    }

    /// <summary>
    /// After authentication: a call left without valid credentials takes a permit from its client
    /// address's bucket, or is answered 429.
    /// </summary>
    public static IApplicationBuilder UseClientAddressRateLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.User.Identity?.IsAuthenticated != true
            && context.GetEndpoint()?.Metadata.GetMetadata<DisableRateLimitingAttribute>() is null
            && !context.RequestServices.GetRequiredService<ClientAddressLimiter>().TryAcquire(context.Connection.RemoteIpAddress, out var retryAfter))
        {
            await Problems.WriteTooManyRequestsAsync(context, retryAfter);
            return;
        }
        await next(context);
    });
}
