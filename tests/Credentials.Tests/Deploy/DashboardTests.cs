using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Credentials.Grains.Hosting;
using Credentials.Tests.Cluster;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Credentials.Tests.Deploy;

/// <summary>
/// The Orleans Dashboard (<c>Dashboard:Enabled</c>): off unless asked for; when on, served on its
/// own port on 127.0.0.1 only, and never as a route of the API.
/// </summary>
public sealed class DashboardTests
{
    private static readonly string[] DashboardPaths = ["/DashboardCounters", "/index.min.js", "/ClusterStats", "/version"];

    [Fact]
    public async Task It_is_off_by_default_nothing_listens_and_the_api_has_no_dashboard_route()
    {
        var port = TestBackends.FreePort();
        await using var factory = new ApiFactory();
        factory.Settings["Dashboard:Port"] = port.ToString();
        var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);

        Assert.False(await AcceptsAsync(IPAddress.Loopback, port), $"something listens on the dashboard port {port}");
        foreach (var path in DashboardPaths) Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task When_enabled_the_embedded_silo_serves_it_on_its_own_loopback_port_only()
    {
        var port = TestBackends.FreePort();
        await using var factory = new ApiFactory();
        factory.Settings["Dashboard:Enabled"] = "true";
        factory.Settings["Dashboard:Port"] = port.ToString();
        var api = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/readyz")).StatusCode);

        using var dashboard = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        await AssertDashboardAnswersAsync(dashboard, "the embedded silo's dashboard");

        // Not a route of the API, and not reachable on any address but loopback.
        foreach (var path in DashboardPaths) Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync(path)).StatusCode);
        foreach (var address in NonLoopbackAddresses())
        {
            Assert.False(await AcceptsAsync(address, port), $"the dashboard answers on {address}:{port}");
        }
    }

    [Fact]
    public async Task The_silo_host_serves_it_when_enabled()
    {
        var port = TestBackends.FreePort();
        var probePort = TestBackends.FreePort();
        var silo = Path.Combine(LocalClusterFixture.RepositoryRoot, "Silo", "bin", LocalClusterFixture.BuildConfiguration, "net10.0", "Credentials.Silo.dll");
        var data = TestBackends.NewTempDirectory();
        var start = new ProcessStartInfo("dotnet", [silo]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = data };
        var id = TestBackends.NewServiceId();
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["Urls"] = $"http://127.0.0.1:{probePort}",
            ["Storage__DataDirectory"] = data,
            ["Orleans__ServiceId"] = id,
            ["Orleans__ClusterId"] = id,
            ["Orleans__SiloPort"] = TestBackends.FreePort().ToString(),
            ["Orleans__GatewayPort"] = TestBackends.FreePort().ToString(),
            ["Dashboard__Enabled"] = "true",
            ["Dashboard__Port"] = port.ToString(),
            ["DOTNET_gcServer"] = "0",
        }) start.Environment[key] = value;

        using var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var dashboard = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            await AssertDashboardAnswersAsync(dashboard, "the silo host's dashboard", () => process.HasExited ? $"the silo exited with {process.ExitCode}:\n{output}" : null);

            // The probe port serves the probes, not the dashboard.
            using var probes = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{probePort}") };
            Assert.Equal(HttpStatusCode.OK, (await probes.GetAsync("/healthz")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await probes.GetAsync("/DashboardCounters")).StatusCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
            await process.WaitForExitAsync();
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    public void A_port_out_of_range_fails_start_up_naming_the_setting(string port)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Dashboard:Enabled"] = "true",
            ["Dashboard:Port"] = port,
        }).Build();

        var error = Assert.Throws<InvalidOperationException>(() => DashboardSettings.From(configuration));
        Assert.Contains("Dashboard:Port", error.Message);
    }

    [Fact]
    public void Unset_settings_mean_off_on_the_default_port()
    {
        var settings = DashboardSettings.From(new ConfigurationBuilder().Build());
        Assert.False(settings.Enabled);
        Assert.Equal(DashboardSettings.DefaultPort, settings.Port);
    }

    /// <summary>The page and a live counter (a call into the cluster) answer within a deadline.</summary>
    private static async Task AssertDashboardAnswersAsync(HttpClient dashboard, string what, Func<string?>? failed = null)
    {
        var deadline = Stopwatch.StartNew();
        string last = "nothing";
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (failed?.Invoke() is { } reason) Assert.Fail(reason);
            try
            {
                using var page = await dashboard.GetAsync("/");
                using var counters = await dashboard.GetAsync("/DashboardCounters");
                last = $"/ {(int)page.StatusCode}, /DashboardCounters {(int)counters.StatusCode}";
                if (page.StatusCode == HttpStatusCode.OK && counters.StatusCode == HttpStatusCode.OK)
                {
                    Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
                    Assert.Equal("application/json", counters.Content.Headers.ContentType?.MediaType);
                    return;
                }
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            await Task.Delay(200);
        }
        Assert.Fail($"{what} did not answer within 60 s (last: {last})");
    }

    private static async Task<bool> AcceptsAsync(IPAddress address, int port)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(address, port).WaitAsync(TimeSpan.FromSeconds(5));
            return true;
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException)
        {
            return false;
        }
    }

    private static IEnumerable<IPAddress> NonLoopbackAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork);
}
