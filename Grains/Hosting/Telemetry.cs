using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Credentials.Grains.Hosting;

/// <summary>
/// The one place every host (API in either mode, silo) wires OpenTelemetry and its console logs.
/// Exporting follows the standard <c>OTEL_*</c> settings: with no OTLP endpoint and no Prometheus
/// port nothing is registered at all, so telemetry that nobody reads costs nothing.
/// </summary>
public static class Telemetry
{
    /// <summary>Spans around chunk reads and commits and blob operations.</summary>
    public const string StorageSourceName = "Credentials.Orleans.Storage";
    public static readonly ActivitySource StorageSource = new(StorageSourceName);

    /// <summary>A storage span (null when nobody listens); <paramref name="key"/> is a chunk key or an org/blob name.</summary>
    public static Activity? StartStorage(string name, string key)
    {
        var span = StorageSource.StartActivity(name);
        if (span is not null)
        {
            span.SetTag("credentials.org", Credentials.Grains.Storage.ChunkStore.OrgOf(key));
            span.SetTag("credentials.key", key);
        }
        return span;
    }

    /// <summary>Every meter of the project: <c>Credentials.Orleans.Storage</c>, <c>Credentials.Orleans.Requests</c>.</summary>
    public const string ProjectMeters = "Credentials.Orleans.*";

    public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
    private static readonly string[] ConsoleFormats = [ConsoleFormatterNames.Simple, ConsoleFormatterNames.Json, ConsoleFormatterNames.Systemd];

    /// <summary>True when traces go to a collector: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or its traces-only variant is set.</summary>
    public static bool ExportsTraces(IConfiguration configuration) => HasEndpoint(configuration, "TRACES");

    /// <summary>True when metrics go to a collector: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or its metrics-only variant is set.</summary>
    public static bool ExportsMetrics(IConfiguration configuration) => HasEndpoint(configuration, "METRICS");

    private static bool HasEndpoint(IConfiguration configuration, string signal) =>
        !string.IsNullOrWhiteSpace(configuration[OtlpEndpoint]) || !string.IsNullOrWhiteSpace(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"]);

    /// <summary>
    /// Logs, traces and metrics of a host. <paramref name="serviceName"/> is the default
    /// <c>service.name</c> (<c>OTEL_SERVICE_NAME</c> wins); <paramref name="jsonLogs"/> makes JSON the
    /// default console format (cluster roles); the callbacks add what only that host has (HTTP).
    /// </summary>
    public static TelemetrySettings AddCredentialsTelemetry(this IHostApplicationBuilder builder, string serviceName, bool jsonLogs,
        Action<TracerProviderBuilder>? traces = null, Action<MeterProviderBuilder>? metrics = null)
    {
        var configuration = builder.Configuration;
        var settings = TelemetrySettings.From(configuration);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(new OrgTags(settings.MaxOrgTags));
        AddConsoleLogs(builder, jsonLogs);

        var traced = ExportsTraces(configuration);
        var measured = ExportsMetrics(configuration);
        if (!traced && !measured && settings.PrometheusPort == 0) return settings;

        var otel = builder.Services.AddOpenTelemetry().ConfigureResource(resource =>
        {
            // Unset, the SDK would report "unknown_service"; set, OTEL_SERVICE_NAME is read by the SDK itself.
            if (string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"])) resource.AddService(serviceName);
        });
        if (traced)
        {
            otel.WithTracing(tracing =>
            {
                tracing.AddSource(StorageSourceName)
                    .AddSource(Orleans.Diagnostics.ActivitySources.AllActivitySourceName)
                    .AddNpgsql();
                traces?.Invoke(tracing);
                tracing.AddOtlpExporter();
            });
        }
        if (!measured && settings.PrometheusPort == 0) return settings;
        otel.WithMetrics(meters =>
        {
            meters.AddMeter("Microsoft.Orleans", ProjectMeters)
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                // The storage counters carry the raw org for in-process listeners; exported, per-org
                // figures come only from the bounded credentials.org.* counters.
                .AddView("credentials.storage.*", new MetricStreamConfiguration { TagKeys = [] });
            metrics?.Invoke(meters);
            if (measured) meters.AddOtlpExporter();
            if (settings.PrometheusPort > 0)
            {
                meters.AddPrometheusHttpListener(options =>
                {
                    options.Host = settings.PrometheusHost;
                    options.Port = settings.PrometheusPort;
                });
            }
        });
        return settings;
    }

    /// <summary>
    /// <c>Logging:Console:FormatterName</c> (simple, json, systemd) chooses the console format in any
    /// mode; unset, cluster roles write one JSON object per line and the embedded default plain text.
    /// Scopes are on either way, so the request id and the org go with every line of a request.
    /// </summary>
    private static void AddConsoleLogs(IHostApplicationBuilder builder, bool jsonByDefault)
    {
        var chosen = builder.Configuration["Logging:Console:FormatterName"];
        if (!string.IsNullOrWhiteSpace(chosen) && !ConsoleFormats.Contains(chosen, StringComparer.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Logging:Console:FormatterName is '{chosen}'; use one of {string.Join(", ", ConsoleFormats)}.");
        }
        var format = string.IsNullOrWhiteSpace(chosen) ? jsonByDefault ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple : chosen;
        builder.Services.Configure<JsonConsoleFormatterOptions>(options =>
        {
            options.IncludeScopes = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        builder.Services.Configure<SimpleConsoleFormatterOptions>(options =>
        {
            options.IncludeScopes = true;
            options.SingleLine = true;
        });
        builder.Logging.AddConsole(options => options.FormatterName = format);
    }
}

/// <summary>Section <c>Telemetry</c>; the <c>OTEL_*</c> settings are the SDK's own.</summary>
public sealed class TelemetrySettings
{
    public const string Section = "Telemetry";
    public const int MaxOrgTagsLimit = 10_000;

    /// <summary>Distinct orgs that get their own tag on the per-org counters of one process; the rest count as "other".</summary>
    public int MaxOrgTags { get; set; } = 100;

    /// <summary>Port of an unauthenticated Prometheus scrape endpoint (<c>/metrics</c>); 0 = off.</summary>
    public int PrometheusPort { get; set; }

    /// <summary>Where that endpoint listens: <c>localhost</c> (default), or <c>*</c> for every interface (a pod's scraper).</summary>
    public string PrometheusHost { get; set; } = "localhost";

    public static TelemetrySettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<TelemetrySettings>() ?? new TelemetrySettings();
        if (settings.MaxOrgTags is < 0 or > MaxOrgTagsLimit)
        {
            throw new InvalidOperationException($"Telemetry:MaxOrgTags is {settings.MaxOrgTags}; it must be between 0 and {MaxOrgTagsLimit}.");
        }
        if (settings.PrometheusPort is < 0 or > 65535)
        {
            throw new InvalidOperationException($"Telemetry:PrometheusPort is {settings.PrometheusPort}; it must be 0 (off) or a port (1-65535).");
        }
        return settings;
    }
}
