using Credentials.Api.Http;
using Credentials.Grains.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Credentials.Api.Extensions;

/// <summary>The API's part of <see cref="Telemetry"/>: HTTP spans and ASP.NET Core's meters, the access log.</summary>
public static class ApiTelemetry
{
    public static void AddApiTelemetry(this WebApplicationBuilder builder, Topology topology) =>
        builder.AddCredentialsTelemetry("credentials-api", jsonLogs: topology.InCluster,
            traces: tracing => tracing.AddAspNetCoreInstrumentation(options => options.Filter = context => !IsProbe(context.Request.Path)),
            metrics: meters => meters.AddAspNetCoreInstrumentation());

    /// <summary>Outermost: the access log sees every answer, errors turned into problems included.</summary>
    public static void UseAccessLog(this WebApplication app) => app.UseMiddleware<AccessLog>();

    /// <summary>After routing and authentication, when the org is known.</summary>
    public static void UseRequestLogScope(this WebApplication app) => app.UseMiddleware<RequestLogScope>();

    private static bool IsProbe(PathString path) => path == "/healthz" || path == "/readyz";
}
