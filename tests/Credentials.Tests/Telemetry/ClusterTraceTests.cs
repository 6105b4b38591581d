using System.Diagnostics;
using System.Net;
using Credentials.Tests.Cluster;
using Credentials.Tests.Infrastructure;
using static Credentials.Tests.Infrastructure.TestRequests;

namespace Credentials.Tests.Telemetry;

/// <summary>
/// Cluster mode: a silo host process and an API node in client mode, both exporting to one
/// collector; a request's spans from both processes form one trace.
/// </summary>
public sealed class ClusterTraceTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private readonly string _clusterId = TestBackends.NewServiceId();
    private Process? _silo;

    [Fact]
    public async Task A_request_through_an_API_node_and_a_silo_process_is_one_trace()
    {
        // Cluster nodes run no DDL: migrate first, as a deployment does (not left to whichever test ran before).
        await TestBackends.MigratePostgresAsync();
        await using var receiver = await OtlpReceiver.StartAsync();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var siloProbe = TestBackends.FreePort();
        StartSilo(receiver, "silo-" + suffix, siloProbe);

        await using var api = TelemetryTests.Exporting(receiver, "api-" + suffix, Backend.PostgreSql);
        api.Settings["Orleans:Mode"] = "Client";
        api.Settings["Orleans:ClusterId"] = _clusterId;
        api.Settings["Orleans:ServiceId"] = _clusterId;
        var admin = api.AdminClient();
        var clock = Stopwatch.StartNew();
        while ((await admin.GetAsync("/readyz")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(clock.Elapsed < Deadline, "the API node did not join the silo in time");
            Assert.False(_silo!.HasExited, $"the silo exited with {(_silo.HasExited ? _silo.ExitCode : 0)}");
            await Task.Delay(200);
        }
        var org = await admin.CreatePlatformAsync();

        var traceId = await TelemetryTests.CreateIssuerInATraceAsync(admin, org);
        await receiver.WaitUntilAsync(r =>
            r.Trace(traceId).Any(s => s.Scope == "Microsoft.AspNetCore")
            && r.Trace(traceId).Any(s => s.Name == "chunk commit")
            && r.Trace(traceId).Any(s => s.Scope == "Npgsql" && s.Service.StartsWith("silo-", StringComparison.Ordinal)),
            Deadline, "spans of the request from both processes");

        var spans = receiver.Trace(traceId);
        var names = string.Join(", ", spans.Select(s => $"{s.Service}/{s.Scope}:{s.Name}"));
        Assert.Equal("api-" + suffix, Assert.Single(spans, s => s.Scope == "Microsoft.AspNetCore").Service);
        Assert.Equal("silo-" + suffix, spans.First(s => s.Name == "chunk commit").Service);
        Assert.True(spans.Any(s => s.Service == "api-" + suffix && s.Scope == "Microsoft.Orleans.Application"), names);
        // The silo's grain-call span continues the API node's: its parent is a span the API node sent.
        var apiSpans = spans.Where(s => s.Service == "api-" + suffix).Select(s => s.SpanId).ToHashSet();
        Assert.True(spans.Any(s => s.Service == "silo-" + suffix && s.Scope == "Microsoft.Orleans.Application" && apiSpans.Contains(s.ParentSpanId)), names);
    }

    private void StartSilo(OtlpReceiver receiver, string service, int probePort)
    {
        var directory = Path.Combine(LocalClusterFixture.RepositoryRoot, "Silo", "bin", LocalClusterFixture.BuildConfiguration, "net10.0");
        var start = new ProcessStartInfo("dotnet", ["Credentials.Silo.dll"])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ConnectionStrings__PostgreSql"] = TestBackends.PostgresConnectionString;
        start.Environment["Orleans__ClusterId"] = _clusterId;
        start.Environment["Orleans__ServiceId"] = _clusterId;
        start.Environment["Orleans__AdvertisedIP"] = "127.0.0.1";
        start.Environment["Webhooks__SecretKey"] = TestBackends.WebhookSecretKey;
        start.Environment["Orleans__SiloPort"] = TestBackends.FreePort().ToString();
        start.Environment["Orleans__GatewayPort"] = TestBackends.FreePort().ToString();
        start.Environment["Urls"] = $"http://127.0.0.1:{probePort}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint;
        start.Environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        start.Environment["OTEL_SERVICE_NAME"] = service;
        start.Environment["OTEL_BSP_SCHEDULE_DELAY"] = "100";
        _silo = Process.Start(start)!;
        // Drain the output so the process never blocks on a full pipe.
        _silo.OutputDataReceived += (_, _) => { };
        _silo.ErrorDataReceived += (_, _) => { };
        _silo.BeginOutputReadLine();
        _silo.BeginErrorReadLine();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xunit 2 never calls a test class's DisposeAsync, so the
    // silo process outlived every run of this test.
    public async Task DisposeAsync()
    {
        if (_silo is null) return;
        if (!_silo.HasExited) _silo.Kill(entireProcessTree: true);
        await _silo.WaitForExitAsync();
        _silo.Dispose();
    }
}
