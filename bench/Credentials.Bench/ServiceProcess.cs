using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Credentials.Bench;

/// <summary>
/// A credentials service (embedded: API + silo) started by the bench as a child process, on free
/// loopback ports, with the bench's super-admin token in its environment (not argv). The rest of
/// the environment is inherited, so <c>ConnectionStrings__PostgreSql</c> selects PostgreSQL.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task _logCopy;

    private ServiceProcess(Process process, Uri url, Task logCopy)
    {
        _process = process;
        Url = url;
        _logCopy = logCopy;
    }

    public Uri Url { get; }

    /// <summary>When the process was spawned (<see cref="Stopwatch"/> timestamp).</summary>
    public long SpawnedAt { get; private init; }

    public static ServiceProcess Start(string apiDll, string dataDirectory, string token, string logFile)
    {
        var httpPort = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            apiDll, $"--Urls=http://127.0.0.1:{httpPort}", $"--Storage:DataDirectory={dataDirectory}",
            "--RateLimiting:Enabled=false", $"--Orleans:SiloPort={FreePort()}", $"--Orleans:GatewayPort={FreePort()}",
            $"--Orleans:ClusterId=bench-ramp-{httpPort}", $"--Orleans:ServiceId=bench-ramp-{Path.GetFileName(dataDirectory)}",
            "--Logging:LogLevel:Default=Warning",
        }) start.ArgumentList.Add(arg);
        start.Environment["Auth__AdminToken"] = token;
        // BENCH_SERVICE_X=v in the bench's environment is X=v for the service alone (runtime knobs for A/B runs).
        foreach (var (name, value) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                     .Select(e => ((string)e.Key, e.Value as string)))
        {
            if (name.StartsWith("BENCH_SERVICE_", StringComparison.Ordinal)) start.Environment[name["BENCH_SERVICE_".Length..]] = value;
        }
        var spawnedAt = Stopwatch.GetTimestamp();
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start dotnet {apiDll}");
        var log = File.AppendText(logFile);
        var logCopy = Task.WhenAll(Copy(process.StandardOutput, log), Copy(process.StandardError, log))
            .ContinueWith(_ => log.Dispose(), TaskScheduler.Default);
        return new ServiceProcess(process, new Uri($"http://127.0.0.1:{httpPort}/"), logCopy) { SpawnedAt = spawnedAt };
    }

    /// <summary>Polls <c>/readyz</c> every 20 ms; returns how long after the spawn it first answered 200.</summary>
    public async Task<TimeSpan> WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the service at {Url} exited with {_process.ExitCode} before it was ready.");
            try
            {
                using var response = await http.GetAsync(new Uri(Url, "readyz"));
                if (response.IsSuccessStatusCode) return Stopwatch.GetElapsedTime(SpawnedAt);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
            if (Stopwatch.GetElapsedTime(SpawnedAt) > timeout) throw new TimeoutException($"{Url}readyz did not answer 200 within {timeout.TotalSeconds:0} s.");
            await Task.Delay(20);
        }
    }

    /// <summary>SIGTERM (a graceful shutdown), then SIGKILL after 20 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await _process.WaitForExitAsync(deadline.Token); }
            catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); await _process.WaitForExitAsync(); }
        }
        await _logCopy;
        _process.Dispose();
    }

    private static async Task Copy(StreamReader from, StreamWriter to)
    {
        while (await from.ReadLineAsync() is { } line)
        {
            lock (to) to.WriteLine(line);
        }
    }

    /// <summary>A port the OS reports free now (it could be taken before the service binds it; rare on loopback).</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
