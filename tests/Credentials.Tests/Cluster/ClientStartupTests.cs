using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Credentials.Tests.Infrastructure;
using Npgsql;

namespace Credentials.Tests.Cluster;

/// <summary>
/// Start order does not matter: an API node in client mode that starts before the database answers
/// or before any silo runs stays up, answers /healthz, keeps /readyz at 503 and joins the cluster
/// once both are there.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ClientStartupTests : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly string _clusterId = TestBackends.NewServiceId();

    [Fact]
    public async Task An_api_node_started_before_the_database_and_any_silo_waits_not_ready_and_joins_when_they_are_up()
    {
        // Cluster nodes run no DDL: the schema is migrated first, as the deployment's Job does.
        await TestBackends.MigratePostgresAsync();
        // The API node reaches PostgreSQL through a proxy that is not listening yet.
        var real = new NpgsqlConnectionStringBuilder(TestBackends.PostgresConnectionString);
        var proxyPort = TestBackends.FreePort();
        var throughProxy = new NpgsqlConnectionStringBuilder(real.ConnectionString) { Host = "127.0.0.1", Port = proxyPort, Timeout = 3 };
        var apiPort = TestBackends.FreePort();
        var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{apiPort}"), Timeout = TimeSpan.FromSeconds(10) };
        Start("Api", throughProxy.ConnectionString, new()
        {
            ["Orleans__Mode"] = "Client",
            ["Auth__AdminToken"] = ApiFactory.AdminToken,
            ["Storage__DataDirectory"] = TestBackends.NewTempDirectory(),
            ["Urls"] = $"http://127.0.0.1:{apiPort}",
        });

        await WaitForAsync(async () => (await StatusAsync(api, "/healthz")) == HttpStatusCode.OK, "the API node to answer /healthz");
        await AssertNotReadyForAWhileAsync(api);   // no database

        using var proxy = new TcpProxy(proxyPort, real.Host!, real.Port);
        await AssertNotReadyForAWhileAsync(api);   // the database, but no silo

        Start("Silo", real.ConnectionString, new()
        {
            ["Orleans__AdvertisedIP"] = "127.0.0.1",
            ["Orleans__SiloPort"] = TestBackends.FreePort().ToString(),
            ["Orleans__GatewayPort"] = TestBackends.FreePort().ToString(),
            ["Urls"] = $"http://127.0.0.1:{TestBackends.FreePort()}",
        });

        await WaitForAsync(async () => (await StatusAsync(api, "/readyz")) == HttpStatusCode.OK, "the API node to join the cluster");
        api.DefaultRequestHeaders.Authorization = new("Api-Token", ApiFactory.AdminToken);
        await api.CreatePlatformAsync();
    }

    /// <summary>Readiness says 503 on every poll for 3 s, and the process stays up throughout.</summary>
    private async Task AssertNotReadyForAWhileAsync(HttpClient api)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await StatusAsync(api, "/readyz"));
            Assert.All(_processes, p => Assert.False(p.HasExited, $"the process exited with {(p.HasExited ? p.ExitCode : 0)}"));
            await Task.Delay(250);
        }
    }

    private void Start(string role, string postgres, Dictionary<string, string> settings)
    {
        var directory = Path.Combine(LocalClusterFixture.RepositoryRoot, role, "bin", LocalClusterFixture.BuildConfiguration, "net10.0");
        var start = new ProcessStartInfo("dotnet", [$"Credentials.{role}.dll"])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ConnectionStrings__PostgreSql"] = postgres;
        start.Environment["Orleans__ClusterId"] = _clusterId;
        start.Environment["Orleans__ServiceId"] = _clusterId;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        if (role == "Silo") start.Environment["Webhooks__SecretKey"] = TestBackends.WebhookSecretKey;
        foreach (var (key, value) in settings) start.Environment[key] = value;
        var process = Process.Start(start)!;
        // Drain the output so the process never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    private static async Task<HttpStatusCode?> StatusAsync(HttpClient client, string path)
    {
        try
        {
            return (await client.GetAsync(path)).StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(90), $"waited 90 s for {what}");
            Assert.All(_processes, p => Assert.False(p.HasExited, $"a process exited with {(p.HasExited ? p.ExitCode : 0)} while waiting for {what}"));
            await Task.Delay(200);
        }
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
            process.Dispose();
        }
    }
}

/// <summary>A loopback TCP forwarder: the database "comes back" when it starts listening.</summary>
internal sealed class TcpProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();

    public TcpProxy(int port, string targetHost, int targetPort)
    {
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        _ = AcceptAsync(targetHost, targetPort);
    }

    private async Task AcceptAsync(string targetHost, int targetPort)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using (client)
                using (var target = new TcpClient())
                {
                    try
                    {
                        await target.ConnectAsync(targetHost, targetPort, _stop.Token);
                        await Task.WhenAny(
                            client.GetStream().CopyToAsync(target.GetStream(), _stop.Token),
                            target.GetStream().CopyToAsync(client.GetStream(), _stop.Token));
                    }
                    catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
                    {
                        // A closed side ends the pair.
                    }
                }
            });
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
