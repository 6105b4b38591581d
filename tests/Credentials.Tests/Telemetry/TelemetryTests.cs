using System.Diagnostics;
using System.Globalization;
using System.Net;
using Credentials.Grains.Hosting;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orleans.Runtime;
using static Credentials.Tests.Infrastructure.TestRequests;

namespace Credentials.Tests.Telemetry;

/// <summary>What an OTLP collector receives from the embedded service, and what it gets when none is configured.</summary>
public sealed class TelemetryTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>The service exporting to <paramref name="receiver"/>, flushing spans every 100 ms and metrics every 200 ms.</summary>
    public static ApiFactory Exporting(OtlpReceiver receiver, string service, Backend backend = Backend.Sqlite)
    {
        var factory = new ApiFactory(backend);
        factory.Settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint;
        factory.Settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        factory.Settings["OTEL_SERVICE_NAME"] = service;
        factory.Settings["OTEL_BSP_SCHEDULE_DELAY"] = "100";
        factory.Settings["OTEL_METRIC_EXPORT_INTERVAL"] = "200";
        return factory;
    }

    /// <summary>POSTs an issuer as a client in a trace of its own would (<c>traceparent</c>, sampled); returns the trace id.</summary>
    public static async Task<string> CreateIssuerInATraceAsync(HttpClient client, string org)
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var request = new HttpRequestMessage(HttpMethod.Post, Issuers(org)) { Content = JsonBody("""{"name":"Traced"}""") };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        return traceId;
    }

    [Theory]
    [InlineData(Backend.Sqlite)]
    [InlineData(Backend.PostgreSql)]
    public async Task One_request_is_one_trace_from_HTTP_through_the_grain_call_to_storage(Backend backend)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var service = "api-" + Guid.NewGuid().ToString("N")[..8];
        await using var factory = Exporting(receiver, service, backend);
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();

        var traceId = await CreateIssuerInATraceAsync(admin, org);
        await receiver.WaitUntilAsync(r =>
            r.Trace(traceId).Any(s => s.Scope == "Microsoft.AspNetCore")
            && r.Trace(traceId).Any(s => s.Name == "chunk commit")
            && (backend != Backend.PostgreSql || r.Trace(traceId).Any(s => s.Scope == "Npgsql")),
            Deadline, "the request's server, grain and storage spans");

        var spans = receiver.Trace(traceId);
        var names = string.Join(", ", spans.Select(s => $"{s.Scope}:{s.Name}"));
        Assert.All(spans, s => Assert.Equal(service, s.Service));
        var server = Assert.Single(spans, s => s.Scope == "Microsoft.AspNetCore");
        Assert.Equal("/api/credentials/orgs/{org}/users/{user_id}/issuers/", server.Attributes["http.route"]);
        Assert.True(spans.Any(s => s.Scope == "Microsoft.Orleans.Application"), $"no grain-call span among {names}");
        var commit = spans.First(s => s.Name == "chunk commit");
        Assert.Equal(global::Credentials.Grains.Hosting.Telemetry.StorageSourceName, commit.Scope);
        Assert.Equal(org, commit.Attributes["credentials.org"]);
        // One tree: every span but the server's hangs from another span of the same trace.
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        Assert.All(spans.Where(s => s != server), s => Assert.True(ids.Contains(s.ParentSpanId), $"{s.Scope}:{s.Name} has no parent in {names}"));
        Assert.DoesNotContain(receiver.Spans, s => s.Attributes.GetValueOrDefault("http.route") is "/healthz" or "/readyz");
    }

    [Fact]
    public async Task Metrics_reach_the_collector_with_the_org_tag_bounded_by_the_setting()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var service = "api-" + Guid.NewGuid().ToString("N")[..8];
        await using var factory = Exporting(receiver, service);
        factory.Settings["Telemetry:MaxOrgTags"] = "1";
        var admin = factory.AdminClient();
        var first = await admin.CreatePlatformAsync();
        await admin.CreateIssuerAsync(first, new { name = "Counted" });
        await admin.ListIssuersAsync(first);
        // The bound is reached: a second org counts as "other".
        var second = await admin.CreatePlatformAsync();
        await admin.CreateIssuerAsync(second, new { name = "Other" });

        OtlpReceiver.Point[] Points(OtlpReceiver r) => r.Points.Where(p => p.Service == service).ToArray();
        bool Has(OtlpReceiver r, string metric, string org) =>
            Points(r).Any(p => p.Metric == metric && p.Attributes.GetValueOrDefault("org") == org && p.Value >= 1);
        await receiver.WaitUntilAsync(r =>
            Has(r, "credentials.org.writes", first) && Has(r, "credentials.org.writes", OrgTags.Other)
            && Has(r, "credentials.org.requests", first)
            && Points(r).Any(p => p.Metric == "credentials.storage.rows_written")
            && Points(r).Any(p => p.Metric == "http.server.request.duration")
            && Points(r).Any(p => p.Scope == "Microsoft.Orleans")
            && Points(r).Any(p => p.Metric.StartsWith("dotnet.", StringComparison.Ordinal)),
            Deadline, "the org counters, storage, ASP.NET Core, Orleans and runtime metrics");

        var points = Points(receiver);
        Assert.Contains(points, p => p.Metric == "credentials.org.requests" && p.Attributes.GetValueOrDefault("org") == first
            && p.Attributes.GetValueOrDefault("status_class") == "2xx");
        Assert.DoesNotContain(points, p => p.Attributes.Values.Contains(second));
        // Exported storage counters carry no org at all: per-org figures are the bounded ones.
        Assert.All(points.Where(p => p.Metric.StartsWith("credentials.storage.", StringComparison.Ordinal)),
            p => Assert.False(p.Attributes.ContainsKey("org")));
    }

    [Fact]
    public async Task Without_an_endpoint_no_provider_or_propagation_is_registered()
    {
        await using var factory = new ApiFactory();
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        await admin.CreateIssuerAsync(org, new { name = "Quiet" });

        Assert.Null(factory.Services.GetService<TracerProvider>());
        Assert.Null(factory.Services.GetService<MeterProvider>());
        Assert.DoesNotContain(factory.Services.GetServices<IIncomingGrainCallFilter>(), f => f.GetType().Name.StartsWith("ActivityPropagation", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, false, false)]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", true, true)]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", true, false)]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", false, true)]
    public void Each_signal_is_on_only_when_an_endpoint_names_it(string? key, bool traces, bool metrics)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new Microsoft.Extensions.Hosting.HostApplicationBuilderSettings { DisableDefaults = true });
        if (key is not null) builder.Configuration[key] = "http://127.0.0.1:1";
        builder.AddCredentialsTelemetry("test", jsonLogs: false);
        using var host = builder.Build();
        Assert.Equal(traces, host.Services.GetService<TracerProvider>() is not null);
        Assert.Equal(metrics, host.Services.GetService<MeterProvider>() is not null);
    }

    [Fact]
    public async Task A_Prometheus_port_serves_the_metrics_in_text_format()
    {
        var port = TestBackends.FreePort();
        await using var factory = new ApiFactory();
        factory.Settings["Telemetry:PrometheusPort"] = port.ToString(CultureInfo.InvariantCulture);
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        await admin.CreateIssuerAsync(org, new { name = "Scraped" });

        using var scraper = new HttpClient();
        var deadline = Stopwatch.StartNew();
        string text;
        do
        {
            text = await scraper.GetStringAsync($"http://localhost:{port}/metrics");
            if (text.Contains($"org=\"{org}\"", StringComparison.Ordinal)) break;
            await Task.Delay(100);
        }
        while (deadline.Elapsed < Deadline);
        Assert.Contains("credentials_org_writes", text);
        Assert.Contains($"org=\"{org}\"", text);
        // Prometheus alone: traces stay off.
        Assert.Null(factory.Services.GetService<TracerProvider>());
    }
}
