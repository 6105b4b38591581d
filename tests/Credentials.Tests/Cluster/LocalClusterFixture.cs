using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Credentials.Grains.Hosting;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Credentials.Tests.Cluster;

/// <summary>
/// The local cluster of <c>deploy/local-cluster.sh</c>, started by the script itself: two silo
/// processes and two API processes from the built binaries, on the test PostgreSQL server, with
/// a cluster id of their own and free loopback ports.
/// </summary>
public sealed class LocalClusterFixture : IAsyncLifetime
{
    private const int PortCount = 9;

    public string StateDirectory { get; } = TestBackends.NewTempDirectory();
    public string ClusterId { get; } = TestBackends.NewServiceId();
    public int FirstPort { get; } = FreePortBlock();

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public Uri ApiNode(int node) => new($"http://127.0.0.1:{FirstPort + node - 1}");
    public Uri SiloProbe(int silo) => new($"http://127.0.0.1:{FirstPort + 1 + silo}");

    public int SiloProcessId(int silo) => int.Parse(File.ReadAllText(Path.Combine(StateDirectory, $"silo-{silo}.pid")).Trim());

    /// <summary>Which silo (1 or 2) hosts each org's grain, asked of the cluster as an Orleans client like an API node.</summary>
    public async Task<Dictionary<string, int>> HostingSilosAsync(IEnumerable<string> orgs)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:PostgreSql"] = TestBackends.PostgresConnectionString,
            ["Orleans:ClusterId"] = ClusterId,
            ["Orleans:ServiceId"] = ClusterId,
            // The script's cluster speaks mutual TLS: present its node certificate, as API nodes do.
            ["Orleans:Tls:CertificatePath"] = Path.Combine(StateDirectory, "tls", "tls.crt"),
            ["Orleans:Tls:KeyPath"] = Path.Combine(StateDirectory, "tls", "tls.key"),
            ["Orleans:Tls:CaPath"] = Path.Combine(StateDirectory, "tls", "ca.crt"),
        });
        builder.UseOrleansClient(client => client.UseCredentialsClustering(builder.Configuration, clusterRole: true));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var hosts = await ClusterProbe.HostsAsync(host.Services.GetRequiredService<IGrainFactory>(), orgs);
            return hosts.ToDictionary(h => h.Key, h => h.Value.Endpoint.Port - (FirstPort + 3));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>The membership status of the newest silo of that name (3 active, 6 dead), or null.</summary>
    public int? SiloStatus(string siloName)
    {
        using var connection = new NpgsqlConnection(TestBackends.PostgresConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(
            "SELECT Status FROM OrleansMembershipTable WHERE DeploymentId = @cluster AND SiloName = @name ORDER BY StartTime DESC LIMIT 1",
            connection);
        command.Parameters.AddWithValue("cluster", ClusterId);
        command.Parameters.AddWithValue("name", siloName);
        return command.ExecuteScalar() as int?;
    }

    /// <summary>A client of one API node sending the super-admin token (or <paramref name="scheme"/> and <paramref name="credential"/>).</summary>
    public HttpClient Client(int node, string scheme = "Api-Token", string credential = ApiFactory.AdminToken) => new()
    {
        BaseAddress = ApiNode(node),
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue(scheme, credential) },
    };

    public Task InitializeAsync() => RunScriptAsync("up");

    /// <summary>Starts whatever is not running (a killed silo) and waits until every node is ready.</summary>
    public Task RestoreAsync() => RunScriptAsync("up");

    public Task DisposeAsync() => RunScriptAsync("down");

    private async Task RunScriptAsync(string verb)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot, "deploy", "local-cluster.sh"), verb])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryRoot,
        };
        start.Environment["LOCAL_CLUSTER_DIR"] = StateDirectory;
        start.Environment["LOCAL_CLUSTER_POSTGRES"] = TestBackends.PostgresConnectionString;
        start.Environment["LOCAL_CLUSTER_PORT"] = FirstPort.ToString();
        start.Environment["LOCAL_CLUSTER_ID"] = ClusterId;
        start.Environment["LOCAL_CLUSTER_ADMIN_TOKEN"] = ApiFactory.AdminToken;
        // The test build already built both hosts (the test project references them).
        start.Environment["LOCAL_CLUSTER_BUILD"] = "0";
        start.Environment["LOCAL_CLUSTER_CONFIGURATION"] = BuildConfiguration;

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"local-cluster.sh {verb} did not finish in 4 minutes:\n{output}");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"local-cluster.sh {verb} exited with {process.ExitCode}:\n{output}");
        }
    }

    public static string BuildConfiguration =>
        typeof(LocalClusterFixture).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Credentials.Orleans.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException($"No Credentials.Orleans.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>Nine consecutive loopback ports that nothing listens on.</summary>
    private static int FreePortBlock()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var first = Random.Shared.Next(20_000, 60_000 - PortCount);
            if (Enumerable.Range(first, PortCount).All(IsFree)) return first;
        }
        throw new InvalidOperationException("No block of free loopback ports.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
