using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Credentials.Tests.Faults;

namespace Credentials.Bench;

/// <summary>
/// Scenarios for the connection budget and fault runs (bench/cluster-faults.sh, bench/faults.sh):
/// timed uploads of distinct images, media GETs, and a write load whose every acknowledgement is
/// read back after a fault command ran (WriteLedger, shared with the CI fault tests).
/// </summary>
public static class FaultScenarios
{
    /// <summary>The request's URL on node <c>worker % nodes</c>: several API nodes share the load.</summary>
    public static Uri OnNode(BenchOptions o, Uri url, int worker) =>
        o.Urls.Count == 1 ? url : new Uri(o.Urls[worker % o.Urls.Count], url.PathAndQuery);

    /// <summary>upload: closed-loop uploads of distinct PNGs (so every one stores a blob) to one fresh org.</summary>
    public static async Task<ScenarioResult> Upload(ServiceClient service, BenchOptions o, TimeSpan warmup, TimeSpan duration)
    {
        var org = ServiceClient.NewOrgKey("upload");
        await service.CreatePlatformAsync(org);
        var url = service.ImagesUrl(org);
        var seed = Random.Shared.NextInt64(1L << 40);
        using var client = LoadRunner.NewClient(o.Concurrency);
        var result = await LoadRunner.RunAsync("upload", "", client, (worker, sequence) =>
            service.PostImage(OnNode(o, url, worker), string.Create(CultureInfo.InvariantCulture, $"upload {worker}-{sequence}"),
                WriteLedger.Png(Interlocked.Increment(ref seed))),
            o.Concurrency, warmup, duration, o.MaxRequests);
        var stored = await service.ImageCountAsync(org);
        var acknowledged = result.Requests - result.Errors;
        if (stored < acknowledged) throw new InvalidOperationException($"{org} holds {stored} images, fewer than the {acknowledged} uploads acknowledged in the window.");
        return result with { Detail = $"distinct {WriteLedger.Png(0).Length} B PNGs, 1 fresh org; it held {stored} images after" };
    }

    /// <summary>media-get: anonymous GETs of the media URLs of <c>MediaFiles</c> distinct uploads.</summary>
    public static async Task<ScenarioResult> MediaGet(ServiceClient service, BenchOptions o, TimeSpan warmup, TimeSpan duration)
    {
        const int MediaFiles = 256;
        var org = ServiceClient.NewOrgKey("media");
        await service.CreatePlatformAsync(org);
        var paths = new string[MediaFiles];
        var seed = Random.Shared.NextInt64(1L << 40);
        await Parallel.ForAsync(0, MediaFiles, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            paths[i] = await service.UploadAsync(service.ImagesUrl(org), $"media {i}", WriteLedger.Png(seed + i)));
        using var client = LoadRunner.NewClient(o.Concurrency);
        return await LoadRunner.RunAsync("media-get", $"{MediaFiles} distinct media files of 1 org, anonymous", client, (worker, sequence) =>
            new HttpRequestMessage(HttpMethod.Get, new Uri(o.Urls[worker % o.Urls.Count], paths[(worker + sequence) % MediaFiles])),
            o.Concurrency, warmup, duration, o.MaxRequests);
    }

    /// <summary>
    /// fault-writes: <c>--concurrency</c> writers (issuers, every 4th an image upload) over
    /// <c>--orgs</c> fresh orgs for <c>--duration</c> seconds; <c>--fault-command</c> runs at
    /// <c>--fault-at</c> s and then every <c>--fault-every</c> s. Afterwards every acknowledged write
    /// is read back. Fails (after the row is written) on any lost write or any answer other than
    /// 2xx/503, or a connection failure (the API nodes never die in these runs).
    /// </summary>
    public static async Task<(ScenarioResult Result, string Report)> FaultWrites(ServiceClient service, BenchOptions o, TimeSpan duration)
    {
        var orgs = new string[o.Orgs];
        for (var i = 0; i < orgs.Length; i++)
        {
            orgs[i] = ServiceClient.NewOrgKey($"f{i}");
            await service.CreatePlatformAsync(orgs[i]);
        }
        await using var ledger = new WriteLedger(o.Urls, o.Token, orgs, new WriteLedger.Options { Writers = o.Concurrency });
        var faults = new List<string>();
        var faultTimes = new List<double>();
        ledger.Start();
        var next = TimeSpan.FromSeconds(o.FaultAtSeconds);
        while (ledger.Now < duration)
        {
            if (o.FaultCommand is { } command && ledger.Now >= next)
            {
                faultTimes.Add(ledger.Now.TotalSeconds);
                var ran = await RunFaultAsync(command, ledger);
                faults.Add(ran);
                Console.WriteLine($"bench: fault {faults.Count}: {ran}");
                next = o.FaultEverySeconds > 0 ? ledger.Now + TimeSpan.FromSeconds(o.FaultEverySeconds) : TimeSpan.MaxValue;
            }
            await Task.Delay(100);
        }
        await ledger.StopAsync();
        var measured = ledger.Now.TotalSeconds;

        foreach (var node in o.Urls) await new ServiceClient(node, o.Token, LoadRunner.NewClient(1)).WaitReadyAsync(TimeSpan.FromSeconds(120));
        var verification = await ledger.VerifyAsync(o.Urls[0], TimeSpan.FromSeconds(120));
        var violations = ledger.Violations.Count();
        Console.WriteLine("bench: " + ledger.Summary());
        Console.WriteLine("bench: " + verification);

        var latency = new LatencyHistogram();
        foreach (var ack in ledger.Acks) latency.Record((long)ack.Took.TotalMicroseconds);
        var errors = ledger.Answers.Where(kv => !kv.Key.StartsWith('2')).ToDictionary();
        var issuers = ledger.Acks.Count(a => a.Kind == "issuer");
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"{orgs.Length} orgs, {o.Urls.Count} node(s); {faults.Count} fault(s): {o.FaultCommand ?? "none"}; " +
            $"{ledger.Acknowledged} acknowledged ({issuers} issuers, {ledger.Acknowledged - issuers} images), **{verification.Lost.Count} lost**, {violations} violations; latency of acknowledged writes");
        var result = new ScenarioResult("fault-writes", detail, o.Concurrency, measured,
            ledger.Answers.Values.Sum(), errors.Values.Sum(), errors, latency);
        PlotFaultRun(o, ledger, measured, faultTimes);
        var report = $"fault-writes [{o.Label}]: {ledger.Summary()}\n{verification}\nfaults:\n{string.Join("\n", faults)}";
        if (verification.Lost.Count > 0 || violations > 0) throw new FaultRunFailed(result, report);
        return (result, report);
    }

    /// <summary>Acknowledged writes and failed attempts over time, the faults marked: PNG and CSV beside the results.</summary>
    private static void PlotFaultRun(BenchOptions o, WriteLedger ledger, double measured, List<double> faultTimes)
    {
        const double step = 0.25;
        var timeline = Timeline.FromSamples(
            ledger.Acks.Select(a => (a.At.TotalSeconds, a.Took.TotalMilliseconds, true))
                .Concat(ledger.Failures.Select(f => (f.At.TotalSeconds, (f.At - f.Started).TotalMilliseconds, false))));
        var intervals = timeline.Intervals(0, measured, step);
        var baseName = Path.Combine(o.PlotDirectory, $"{Path.GetFileNameWithoutExtension(o.OutputPath)}-fault-writes-{RampScenario.Safe(o.Label)}");
        Timeline.WriteCsv(baseName + ".csv", intervals, step);
        LatencyPlot.Render(baseName + ".png",
            $"fault-writes [{o.Label}]: {o.Concurrency} writers over {o.Urls.Count} node(s); acknowledged writes and failed attempts",
            intervals, step, [.. faultTimes.Select(t => (t, "fault"))]);
        Console.WriteLine($"bench: fault-writes plot {baseName}.png");
    }

    private static async Task<string> RunFaultAsync(string command, WriteLedger ledger)
    {
        var started = ledger.Now;
        using var process = Process.Start(new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        var text = ((await output) + (await error)).Trim().ReplaceLineEndings(" ");
        return string.Create(CultureInfo.InvariantCulture,
            $"{started.TotalSeconds:0.0}–{ledger.Now.TotalSeconds:0.0} s, exit {process.ExitCode}{(text.Length > 0 ? ": " + text : "")}");
    }
}

/// <summary>A fault run lost writes or broke the answer rules; its row is still reported.</summary>
public sealed class FaultRunFailed(ScenarioResult result, string details) : Exception(details)
{
    public ScenarioResult Result { get; } = result;
}
