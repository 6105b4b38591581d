using System.Diagnostics;
using System.Text;
using Credentials.Tests.Cluster;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Faults;

/// <summary>
/// The embedded service (API + silo) as a separate <c>dotnet Credentials.Api.dll</c> process, so
/// a test can kill it with SIGKILL and start it again over the same data directory and port.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private readonly Dictionary<string, string> _settings;
    private Process? _process;

    /// <param name="postgres">Npgsql connection string for storage; null: SQLite in the data directory.</param>
    public ServiceProcess(string? postgres = null)
    {
        Port = TestBackends.FreePort();
        _settings = new()
        {
            ["Urls"] = $"http://127.0.0.1:{Port}",
            ["Storage__DataDirectory"] = DataDirectory,
            ["Orleans__ServiceId"] = ServiceId,
            ["Orleans__ClusterId"] = ServiceId,
            ["Auth__AdminToken"] = ApiFactory.AdminToken,
            ["RateLimiting__Enabled"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
            ["DOTNET_gcServer"] = "0",
        };
        if (postgres is not null) _settings["ConnectionStrings__PostgreSql"] = postgres;
    }

    public int Port { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");
    public string DataDirectory { get; } = TestBackends.NewTempDirectory();
    public string ServiceId { get; } = TestBackends.NewServiceId();
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What the process (and earlier runs of it) wrote, for failure messages.</summary>
    public string Log
    {
        get { lock (_log) return _log.Length <= 6000 ? _log.ToString() : "…" + _log.ToString(_log.Length - 6000, 6000); }
    }

    public static string ApiAssembly => Path.Combine(LocalClusterFixture.RepositoryRoot, "Api", "bin", LocalClusterFixture.BuildConfiguration, "net10.0", "Credentials.Api.dll");

    /// <summary>Starts the process (fresh silo ports each time) and waits until /readyz answers 200.</summary>
    public async Task StartAsync(TimeSpan timeout)
    {
        if (IsRunning) throw new InvalidOperationException("Already running.");
        if (!File.Exists(ApiAssembly)) throw new InvalidOperationException($"No {ApiAssembly}: build the solution first.");
        var start = new ProcessStartInfo("dotnet", [ApiAssembly])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = DataDirectory,
        };
        foreach (var (key, value) in _settings) start.Environment[key] = value;
        // A killed silo's ports may linger; a restart takes new ones (the HTTP port stays).
        start.Environment["Orleans__SiloPort"] = TestBackends.FreePort().ToString();
        start.Environment["Orleans__GatewayPort"] = TestBackends.FreePort().ToString();

        _process?.Dispose();
        lock (_log) _log.AppendLine($"--- start at {DateTime.UtcNow:HH:mm:ss.fff}");
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"The service exited with {process.ExitCode} before it was ready:\n{Log}");
            try
            {
                using var response = await probe.GetAsync("/readyz");
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
            if (clock.Elapsed > timeout) throw new TimeoutException($"The service was not ready after {timeout.TotalSeconds:0} s:\n{Log}");
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        var process = _process ?? throw new InvalidOperationException("Not started.");
        process.Kill();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        lock (_log) _log.AppendLine($"--- killed at {DateTime.UtcNow:HH:mm:ss.fff}");
    }

    /// <summary>SIGTERM and a graceful shutdown; SIGKILL after <paramref name="timeout"/>.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process is not { HasExited: false } process) return;
        using (var terminate = Process.Start("kill", ["-TERM", process.Id.ToString()])) await terminate.WaitForExitAsync();
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (IsRunning)
        {
            _process!.Kill();
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}
