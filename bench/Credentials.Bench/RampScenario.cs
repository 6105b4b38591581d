using System.Globalization;

namespace Credentials.Bench;

/// <summary>
/// ramp: what a newly started process (a freshly scaled-out pod) gives its first users. A first
/// process seeds an org with <c>--issuers</c> issuers and is stopped; then a fresh process is
/// started on the same data, and the moment its <c>/readyz</c> answers 200, <c>--concurrency</c>
/// clients read that org's issuer page for <c>--ramp-seconds</c> and then <c>--ramp-warm-seconds</c>
/// more (its warm rate). Every answer is timed, so the rows and the plot show the ramp per 100 ms.
/// </summary>
public static class RampScenario
{
    public const double Step = 0.1;
    /// <summary>The goal (issue 12): ≥ 70 % of the warm rate within the first 2 s.</summary>
    private const double FirstWindow = 2;

    public static async Task<IReadOnlyList<ScenarioResult>> RunAsync(BenchOptions o)
    {
        var apiDll = o.ApiDll ?? throw new InvalidOperationException("the ramp scenario needs --api-dll (the service's Credentials.Api.dll).");
        var work = Directory.CreateTempSubdirectory("credentials-ramp-");
        var data = Directory.CreateDirectory(Path.Combine(work.FullName, "data")).FullName;
        var log = Path.Combine(work.FullName, "service.log");
        try
        {
            // 1. Seed in a first process; a short load on it also warms this load generator's own code.
            string org;
            await using (var seeding = ServiceProcess.Start(apiDll, data, o.Token, log))
            {
                await seeding.WaitReadyAsync(TimeSpan.FromSeconds(90));
                using var http = LoadRunner.NewClient(o.Concurrency);
                var service = new ServiceClient(seeding.Url, o.Token, http);
                org = ServiceClient.NewOrgKey("ramp");
                await service.CreatePlatformAsync(org);
                await service.FillAsync(org, o.Issuers, parallelism: 64, TimeSpan.FromSeconds(o.SeedTimeoutSeconds));
                await LoadRunner.RunAsync("ramp-seed", "", http, (_, _) => service.Get(service.IssuersUrl(org)),
                    o.Concurrency, TimeSpan.Zero, TimeSpan.FromSeconds(3), o.MaxRequests);
            }

            // 2. A fresh process on the same data, loaded from the moment it says it is ready.
            await using var fresh = ServiceProcess.Start(apiDll, data, o.Token, log);
            var readyAfter = await fresh.WaitReadyAsync(TimeSpan.FromSeconds(90));
            using var client = LoadRunner.NewClient(o.Concurrency);
            var freshService = new ServiceClient(fresh.Url, o.Token, client);
            var url = freshService.IssuersUrl(org);
            var timeline = new Timeline(System.Diagnostics.Stopwatch.GetTimestamp());
            var total = o.RampSeconds + o.RampWarmSeconds;
            await LoadRunner.RunAsync("ramp", "", client, (_, _) => freshService.Get(url),
                o.Concurrency, TimeSpan.Zero, TimeSpan.FromSeconds(total), o.MaxRequests, timeline);
            // The answer after the load is still the seeded org's page.
            await freshService.FetchPageAsync(url, o.Issuers);

            var warm = timeline.Rate(o.RampSeconds, total);
            var first = timeline.Rate(0, FirstWindow);
            var ratio = first / warm;
            var intervals = timeline.Intervals(0, total, Step);
            var firstAbove = intervals.FirstOrDefault(i => i.Completed / Step >= 0.7 * warm)?.StartSeconds;
            var detail = string.Create(CultureInfo.InvariantCulture,
                $"fresh process, ready {readyAfter.TotalSeconds:0.0} s after spawn; first {FirstWindow:0} s after ready **{first:0}/s = {ratio:P0} of warm** " +
                $"({warm:0}/s, {o.RampSeconds:0}–{total:0} s); first 100 ms at ≥ 70 % of warm: {(firstAbove is { } at ? at.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "none")}");
            Console.WriteLine($"bench: ramp {detail}");

            var baseName = Path.Combine(o.PlotDirectory, $"{Path.GetFileNameWithoutExtension(o.OutputPath)}-ramp-{Safe(o.Label)}");
            Timeline.WriteCsv(baseName + ".csv", intervals, Step);
            LatencyPlot.Render(baseName + ".png",
                string.Create(CultureInfo.InvariantCulture, $"Fresh process [{o.Label}]: GET issuer page, {o.Concurrency} in flight from /readyz (ready {readyAfter.TotalSeconds:0.0} s after spawn)"),
                intervals, Step, [(FirstWindow, $"{FirstWindow:0} s: {ratio:P0} of warm"), (o.RampSeconds, "warm window")]);
            Console.WriteLine($"bench: ramp plot {baseName}.png");

            return
            [
                timeline.Window("ramp-first-2s", detail, o.Concurrency, 0, FirstWindow),
                timeline.Window(string.Create(CultureInfo.InvariantCulture, $"ramp-2s-{o.RampSeconds:0}s"), "same process, the rest of the ramp window", o.Concurrency, FirstWindow, o.RampSeconds),
                timeline.Window("ramp-warm", "same process, after the ramp window (its warm rate)", o.Concurrency, o.RampSeconds, total),
            ];
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("KEEP_BENCH_TMP") is null) work.Delete(recursive: true);
            else Console.WriteLine($"bench: kept {work.FullName}");
        }
    }

    /// <summary>A label as part of a file name.</summary>
    public static string Safe(string label) => string.Concat(label.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-'));
}
