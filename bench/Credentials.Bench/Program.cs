using System.Globalization;
using System.Net;
using System.Text;
using Credentials.Bench;

// Benchmarks a running credentials service (loopback only). See bench/README.md.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"bench: {ex.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
if (options.Help)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}
if (options.RatiosOnly)
{
    Report.AppendRatios(options.OutputPath);
    return 0;
}

try
{
    await Bench.RunAsync(options);
    return 0;
}
catch (FaultRunFailed ex)
{
    Console.Error.WriteLine($"bench: the fault run failed:\n{ex.Message}");
    return 3;
}
catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or HttpRequestException)
{
    Console.Error.WriteLine($"bench: {ex.Message}");
    return 1;
}

namespace Credentials.Bench
{
    public static class Bench
    {
        public static readonly string[] AllScenarios = ["ceiling", "read-list", "read-search", "image-search", "write-create", "write-create-20", "svg-inspection"];

        /// <summary>
        /// Run only when named: the connection-budget and fault scenarios (bench/cluster-faults.sh,
        /// bench/faults.sh), and activation (an in-process silo over storage; no service needed).
        /// </summary>
        public static readonly string[] ExtraScenarios = ["upload", "media-get", "fault-writes", "ramp", "activation", "write-webhook"];

        /// <summary>An org holds at most 250,000 issuers (OrgGrain.MaxIssuersPerOrg); stay below it.</summary>
        private const long MaxWritesPerOrg = 240_000;

        public static async Task RunAsync(BenchOptions o)
        {
            if (o.Scenarios.Remove("activation"))
            {
                await ActivationBench.RunAsync(o);
                if (o.Scenarios.Count == 0) return;
            }
            using var setupHttp = LoadRunner.NewClient(64);
            var service = new ServiceClient(o.Url, o.Token, setupHttp);
            var warmup = TimeSpan.FromSeconds(o.WarmupSeconds);
            var duration = TimeSpan.FromSeconds(o.DurationSeconds);
            var seedTimeout = TimeSpan.FromSeconds(o.SeedTimeoutSeconds);

            Console.WriteLine($"bench: {o.Url} [{o.Label}] scenarios={string.Join(',', o.Scenarios)} " +
                $"duration={o.DurationSeconds}s warmup={o.WarmupSeconds}s concurrency={o.Concurrency}");
            await service.WaitReadyAsync(TimeSpan.FromSeconds(30));

            string? listOrg = null;
            if (o.Scenarios.Contains("ceiling") || o.Scenarios.Contains("read-list"))
            {
                listOrg = ServiceClient.NewOrgKey("list");
                await Seed(service, listOrg, o.Issuers, seedTimeout);
            }
            string? searchOrg = null;
            if (o.Scenarios.Contains("read-search"))
            {
                searchOrg = ServiceClient.NewOrgKey("search");
                await Seed(service, searchOrg, o.SearchIssuers, seedTimeout);
            }

            foreach (var scenario in AllScenarios.Concat(ExtraScenarios).Where(o.Scenarios.Contains))
            {
                // Let the previous scenario's in-flight work (and the GC) settle.
                await Task.Delay(500);
                if (scenario == "image-search")
                {
                    // Three rows: the fill (uploads/s), then a rare and a common search of that org.
                    var (fill, imageOrg) = await ImageFill(service, o, seedTimeout);
                    Emit(o, fill);
                    await Task.Delay(500);
                    Emit(o, await ImageSearchRare(service, imageOrg, o, warmup, duration));
                    await Task.Delay(500);
                    Emit(o, await ImageSearchCommon(service, imageOrg, o, warmup, duration));
                    continue;
                }
                if (scenario == "fault-writes")
                {
                    try
                    {
                        var (faultResult, report) = await FaultScenarios.FaultWrites(service, o, duration);
                        Emit(o, faultResult);
                        File.AppendAllText(o.OutputPath, $"\n```\n{report}\n```\n");
                    }
                    catch (FaultRunFailed failed)
                    {
                        Emit(o, failed.Result);
                        File.AppendAllText(o.OutputPath, $"\nfault-writes FAILED:\n```\n{failed.Message}\n```\n");
                        throw;
                    }
                    continue;
                }
                if (scenario == "ramp")
                {
                    foreach (var row in await RampScenario.RunAsync(o)) Emit(o, row);
                    continue;
                }
                var result = scenario switch
                {
                    "upload" => await FaultScenarios.Upload(service, o, warmup, duration),
                    "media-get" => await FaultScenarios.MediaGet(service, o, warmup, duration),
                    "ceiling" => await Ceiling(service, listOrg!, o, warmup, duration),
                    "read-list" => await ReadList(service, listOrg!, o, warmup, duration),
                    "read-search" => await ReadSearch(service, searchOrg!, o, warmup, duration),
                    "write-create" => await Write(service, 1, "write-create", o, warmup, duration),
                    "write-webhook" => await WriteWithWebhook(service, o, warmup, duration),
                    "svg-inspection" => await SvgInspection(service),
                    _ => await Write(service, o.Orgs, "write-create-20", o, warmup, duration),
                };
                Emit(o, result);
            }
            Console.WriteLine($"bench: rows appended to {Path.GetFullPath(o.OutputPath)}");
        }

        private static void Emit(BenchOptions o, ScenarioResult result)
        {
            Report.Print(result);
            Report.Append(o.OutputPath, o.Label, result);
        }

        /// <summary>
        /// image-upload: fills a fresh org with <c>--images</c> records through the real upload
        /// endpoint (multipart), <c>--upload-concurrency</c> in flight. Every upload sends the same
        /// tiny PNG (stored once per org), so what is measured is the request, the inspection and
        /// the record's group commit. The whole fill is the measured window; any non-2xx aborts it.
        /// </summary>
        private static async Task<(ScenarioResult Result, string Org)> ImageFill(ServiceClient service, BenchOptions o, TimeSpan timeout)
        {
            var org = ServiceClient.NewOrgKey("images");
            await service.CreatePlatformAsync(org);
            var url = service.ImagesUrl(org);
            using var client = LoadRunner.NewClient(o.UploadConcurrency);
            var uploader = new ServiceClient(o.Url, o.Token, client);

            // The first upload alone: it stores the bytes, and its answer is checked against A2.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var first = new LatencyHistogram();
            var sent = System.Diagnostics.Stopwatch.GetTimestamp();
            await uploader.UploadImageCheckedAsync(url, ServiceClient.ImageName(0));
            first.Record((long)System.Diagnostics.Stopwatch.GetElapsedTime(sent).TotalMicroseconds);

            var next = 0L;
            var workers = Enumerable.Range(0, Math.Max(1, Math.Min(o.UploadConcurrency, o.Images - 1))).Select(worker => Task.Run(async () =>
            {
                var latency = new LatencyHistogram();
                long i;
                while ((i = Interlocked.Increment(ref next)) < o.Images)
                {
                    if (clock.Elapsed > timeout)
                    {
                        throw new TimeoutException($"Uploading {o.Images} images to {org} took more than {timeout.TotalSeconds:0} s (--seed-timeout).");
                    }
                    var start = System.Diagnostics.Stopwatch.GetTimestamp();
                    using var request = uploader.PostImage(FaultScenarios.OnNode(o, url, worker), ServiceClient.ImageName(i));
                    using var response = await client.SendAsync(request);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    if (!response.IsSuccessStatusCode)
                    {
                        throw new InvalidOperationException(
                            $"Uploading image {i} to {org} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
                    }
                    latency.Record((long)System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }
                return latency;
            })).ToArray();
            var all = first;
            foreach (var histogram in await Task.WhenAll(workers)) all.Merge(histogram);
            var seconds = clock.Elapsed.TotalSeconds;

            var stored = await service.ImageCountAsync(org);
            if (stored != o.Images) throw new InvalidOperationException($"{org} holds {stored} images after the fill, expected {o.Images}.");
            var detail = string.Create(CultureInfo.InvariantCulture,
                $"{o.Images:N0} uploads of one {ServiceClient.TinyPng.Length} B PNG to 1 fresh org (multipart; {ServiceClient.ImageNeedleCount(o.Images):N0} names with \"{ServiceClient.Needle}\"); whole fill");
            var result = new ScenarioResult("image-upload", detail, o.UploadConcurrency, seconds, all.Count, 0,
                new Dictionary<string, long>(), all);
            return (result, org);
        }

        /// <summary>image-search-rare: <c>?query=needle</c> without limit: every name is scanned and 1 % are returned.</summary>
        private static async Task<ScenarioResult> ImageSearchRare(ServiceClient service, string org, BenchOptions o, TimeSpan warmup, TimeSpan duration)
        {
            var url = service.ImagesUrl(org, ServiceClient.Needle);
            var hits = ServiceClient.ImageNeedleCount(o.Images);
            var page = await service.FetchImagesAsync(url, hits);
            using var client = LoadRunner.NewClient(o.Concurrency);
            return await LoadRunner.RunAsync("image-search-rare",
                string.Create(CultureInfo.InvariantCulture, $"query={ServiceClient.Needle}, no limit: {hits:N0} of {o.Images:N0} images ({page.Length:N0} B)"),
                client, (worker, _) => service.Get(FaultScenarios.OnNode(o, url, worker)), o.Concurrency, warmup, duration, o.MaxRequests);
        }

        /// <summary>image-search-common: <c>?query=icon&amp;limit=50</c>: every name matches, the scan stops after 50.</summary>
        private static async Task<ScenarioResult> ImageSearchCommon(ServiceClient service, string org, BenchOptions o, TimeSpan warmup, TimeSpan duration)
        {
            var url = service.ImagesUrl(org, ServiceClient.ImageCommonTerm, limit: 50);
            var page = await service.FetchImagesAsync(url, Math.Min(50, o.Images));
            using var client = LoadRunner.NewClient(o.Concurrency);
            return await LoadRunner.RunAsync("image-search-common",
                string.Create(CultureInfo.InvariantCulture, $"query={ServiceClient.ImageCommonTerm}&limit=50: all {o.Images:N0} match, first 50 returned ({page.Length:N0} B)"),
                client, (worker, _) => service.Get(FaultScenarios.OnNode(o, url, worker)), o.Concurrency, warmup, duration, o.MaxRequests);
        }

        /// <summary>
        /// svg-inspection (B6): uploads a 10 MiB hostile SVG (the issue-8 style: <c>url(</c> again and
        /// again with no ')', quadratic under the old regex) and a 10 MiB plain one (paths), one at a
        /// time, alternating; prints the ratio of their median latencies. The hostile one must be
        /// refused (400), the plain one accepted (200); any other answer counts as an error.
        /// </summary>
        private static async Task<ScenarioResult> SvgInspection(ServiceClient service)
        {
            const int rounds = 5;
            const int size = 10 * 1024 * 1024 - 4096; // under the 10 MiB file limit
            var org = ServiceClient.NewOrgKey("svg");
            await service.CreatePlatformAsync(org);
            var url = service.ImagesUrl(org);
            var plain = Svg(size, "<path d=\"M10 10 L20 20 C30 30 40 40 50 50 Z\" fill=\"#c00\" stroke-width=\"2\"/>\n", "", "");
            var hostile = Svg(size, "url(", "<style>", "</style>");
            using var client = LoadRunner.NewClient(1);
            var (plainTimes, hostileTimes) = (new List<double>(), new List<double>());
            var all = new LatencyHistogram();
            long errors = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (var round = -1; round < rounds; round++) // round -1 warms up
            {
                foreach (var (bytes, expected, times) in new[] { (plain, HttpStatusCode.OK, plainTimes), (hostile, HttpStatusCode.BadRequest, hostileTimes) })
                {
                    var start = System.Diagnostics.Stopwatch.GetTimestamp();
                    using var request = service.PostImage(url, "svg-inspection", bytes, "drawing.svg", "image/svg+xml");
                    using var response = await client.SendAsync(request);
                    await response.Content.ReadAsByteArrayAsync();
                    var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
                    if (round < 0) continue;
                    if (response.StatusCode != expected) errors++;
                    times.Add(elapsed.TotalMilliseconds);
                    all.Record((long)elapsed.TotalMicroseconds);
                }
            }
            double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
            var ratio = Median(hostileTimes) / Median(plainTimes);
            var detail = string.Create(CultureInfo.InvariantCulture,
                $"10 MiB SVG upload, hostile (style of url( without ')') {Median(hostileTimes):0} ms vs plain (paths) {Median(plainTimes):0} ms, medians of {rounds}: ratio {ratio:0.00}");
            Console.WriteLine($"bench: svg-inspection {detail}");
            return new ScenarioResult("svg-inspection", detail, 1, clock.Elapsed.TotalSeconds, 2 * rounds, errors, new Dictionary<string, long>(), all);
        }

        private static byte[] Svg(int size, string unit, string head, string tail)
        {
            var builder = new StringBuilder(size).Append("<svg xmlns=\"http://www.w3.org/2000/svg\">").Append(head);
            while (builder.Length + unit.Length + tail.Length + 6 <= size) builder.Append(unit);
            return Encoding.UTF8.GetBytes(builder.Append(tail).Append("</svg>").ToString());
        }

        private static async Task Seed(ServiceClient service, string org, int count, TimeSpan timeout)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await service.CreatePlatformAsync(org);
            await service.FillAsync(org, count, parallelism: 64, timeout);
            Console.WriteLine($"bench: seeded {org} with {count} issuers in {clock.Elapsed.TotalSeconds:0.0} s " +
                $"({count / Math.Max(clock.Elapsed.TotalSeconds, 0.001):0} writes/s at 64 in flight)");
        }

        private static async Task<ScenarioResult> Ceiling(ServiceClient service, string org, BenchOptions o, TimeSpan warmup, TimeSpan duration)
        {
            var page = await service.FetchPageAsync(service.IssuersUrl(org), o.Issuers);
            await using var server = await CeilingServer.StartAsync(page);
            var url = new Uri(server.Url, $"api/credentials/orgs/{org}/users/{ServiceClient.UserId}/issuers/?limit=50");
            using var client = LoadRunner.NewClient(o.Concurrency);
            return await LoadRunner.RunAsync("ceiling", $"in-process Kestrel, same {page.Length} B page",
                client, (_, _) => service.Get(url), o.Concurrency, warmup, duration, o.MaxRequests);
        }

        private static async Task<ScenarioResult> ReadList(ServiceClient service, string org, BenchOptions o, TimeSpan warmup, TimeSpan duration)
        {
            var url = service.IssuersUrl(org);
            var page = await service.FetchPageAsync(url, o.Issuers);
            using var client = LoadRunner.NewClient(o.Concurrency);
            return await LoadRunner.RunAsync("read-list", $"{o.Issuers} issuers, limit=50 ({page.Length} B)",
                client, (worker, _) => service.Get(FaultScenarios.OnNode(o, url, worker)), o.Concurrency, warmup, duration, o.MaxRequests);
        }

        private static async Task<ScenarioResult> ReadSearch(ServiceClient service, string org, BenchOptions o, TimeSpan warmup, TimeSpan duration)
        {
            var url = service.IssuersUrl(org, ServiceClient.Needle);
            var hits = (o.SearchIssuers + 99) / 100;
            var page = await service.FetchPageAsync(url, hits);
            using var client = LoadRunner.NewClient(o.Concurrency);
            return await LoadRunner.RunAsync("read-search", $"q={ServiceClient.Needle}: {hits} of {o.SearchIssuers}, limit=50 ({page.Length} B)",
                client, (worker, _) => service.Get(FaultScenarios.OnNode(o, url, worker)), o.Concurrency, warmup, duration, o.MaxRequests);
        }

        /// <summary>
        /// write-webhook (C5): write-create on an org with one webhook subscribed to every event,
        /// delivered to a receiver in this process; compare its rate with write-create's in the
        /// same run. The detail says how many deliveries arrived by the end and shortly after.
        /// </summary>
        private static async Task<ScenarioResult> WriteWithWebhook(ServiceClient service, BenchOptions o, TimeSpan warmup, TimeSpan duration)
        {
            await using var sink = await WebhookSink.StartAsync();
            string? subscribedOrg = null;
            var result = await Write(service, 1, "write-webhook", o, warmup, duration, async org =>
            {
                await service.SubscribeWebhookAsync(org, sink.Url);
                subscribedOrg = org;
            });
            var atEnd = sink.Received;
            var settle = System.Diagnostics.Stopwatch.StartNew();
            var stored = await service.CountAsync(subscribedOrg!);
            while (sink.Received < stored && settle.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(200);
            var detail = string.Create(CultureInfo.InvariantCulture,
                $"{result.Detail}; 1 webhook (all events, receiver in the bench): {atEnd:N0} delivered by the end, {sink.Received:N0} after {settle.Elapsed.TotalSeconds:0.0} s more");
            return result with { Detail = detail };
        }

        private static async Task<ScenarioResult> Write(
            ServiceClient service, int orgCount, string name, BenchOptions o, TimeSpan warmup, TimeSpan duration, Func<string, Task>? prepare = null)
        {
            var orgs = new string[orgCount];
            for (var i = 0; i < orgCount; i++)
            {
                orgs[i] = ServiceClient.NewOrgKey(orgCount == 1 ? "write" : $"w{i}");
                await service.CreatePlatformAsync(orgs[i]);
                if (prepare is not null) await prepare(orgs[i]);
            }
            var urls = orgs.Select(org => service.IssuersUrl(org)).ToArray();
            var budget = Math.Min(o.MaxRequests, MaxWritesPerOrg * orgCount);
            var counter = 0L;
            using var client = LoadRunner.NewClient(o.Concurrency);
            var result = await LoadRunner.RunAsync(name, "", client, (worker, sequence) =>
            {
                // Round-robin over the orgs, so every org sees an even share of the concurrency.
                var n = Interlocked.Increment(ref counter);
                var json = ServiceClient.IssuerJson(string.Create(CultureInfo.InvariantCulture, $"Bench write {worker}-{sequence}"), n);
                return service.PostJson(FaultScenarios.OnNode(o, urls[n % urls.Length], worker), json);
            }, o.Concurrency, warmup, duration, budget);

            long stored = 0;
            foreach (var org in orgs) stored += await service.CountAsync(org);
            var detail = orgCount == 1
                ? $"1 org, fresh; it held {stored} issuers after"
                : $"{orgCount} orgs round-robin, fresh; they held {stored} issuers after";
            return result with { Detail = detail };
        }
    }

    public static class Report
    {
        private const string Header =
            "| UTC | backend | scenario | detail | conc | secs | requests | req/s | 2xx/s | p50 ms | p90 ms | p99 ms | max ms | errors |\n" +
            "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n";

        public static void Print(ScenarioResult r)
        {
            var h = r.Latency;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Scenario,-16} {r.RequestsPerSecond,9:0} req/s ({r.SuccessesPerSecond:0} 2xx/s) " +
                $"p50 {Ms(h.PercentileMicros(50))} p90 {Ms(h.PercentileMicros(90))} p99 {Ms(h.PercentileMicros(99))} max {Ms(h.MaxMicros)} ms " +
                $"errors {r.Errors}{Kinds(r)}  [{r.Requests} in {r.MeasuredSeconds:0.0} s, c={r.Concurrency}; {r.Detail}]"));
        }

        public static void Append(string path, string label, ScenarioResult r)
        {
            var h = r.Latency;
            var row = string.Create(CultureInfo.InvariantCulture,
                $"| {DateTime.UtcNow:yyyy-MM-dd HH:mm} | {label} | {r.Scenario} | {r.Detail} | {r.Concurrency} | {r.MeasuredSeconds:0.0} | " +
                $"{r.Requests} | {r.RequestsPerSecond:0} | {r.SuccessesPerSecond:0} | {Ms(h.PercentileMicros(50))} | {Ms(h.PercentileMicros(90))} | " +
                $"{Ms(h.PercentileMicros(99))} | {Ms(h.MaxMicros)} | {r.Errors}{Kinds(r)} |\n");
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null) Directory.CreateDirectory(directory);
            // A header unless the row continues a table (notes may sit between a fault run's rows).
            var needsHeader = !File.Exists(path) || !File.ReadAllText(path).TrimEnd().Split('\n')[^1].StartsWith('|');
            File.AppendAllText(path, (needsHeader ? "\n" + Header : "") + row, Encoding.UTF8);
        }

        /// <summary>Backends compared by <see cref="AppendRatios"/>: the second's rate as a ratio of the first's.</summary>
        private static readonly (string Base, string Other)[] Comparisons = [("sqlite", "postgres"), ("postgres", "cluster")];

        /// <summary>
        /// Appends, for every scenario measured on both backends of a comparison (PostgreSQL against
        /// embedded SQLite; the local cluster against embedded PostgreSQL), the second's rate as a
        /// ratio of the first's, the machine time per answer each implies (1 / rate, both on the
        /// same cores) and the difference in median latency: figures of one run on a shared machine
        /// compare only as ratios and differences.
        /// </summary>
        public static void AppendRatios(string path)
        {
            var rows = new Dictionary<(string Backend, string Scenario), (double Rate, double P50)>();
            foreach (var line in File.ReadAllLines(path))
            {
                var cells = line.Split('|');
                // | UTC | backend | scenario | detail | conc | secs | requests | req/s | 2xx/s | p50 ms | ...
                if (cells.Length < 11 || !double.TryParse(cells[9].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var rate)) continue;
                var p50 = double.TryParse(cells[10].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) ? ms : double.NaN;
                rows[(cells[2].Trim(), cells[3].Trim())] = (rate, p50);
            }
            var table = new StringBuilder();
            foreach (var (first, second) in Comparisons)
            {
                var pairs = rows.Keys.Where(k => k.Backend == first && rows.ContainsKey((second, k.Scenario))).Select(k => k.Scenario).ToArray();
                if (pairs.Length == 0) continue;
                table.Append(CultureInfo.InvariantCulture,
                    $"\n| scenario | {first} 2xx/s | {second} 2xx/s | {second} / {first} | µs per answer, {first} → {second} | p50 ms, {first} → {second} (Δ) |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
                foreach (var scenario in pairs)
                {
                    var (a, b) = (rows[(first, scenario)], rows[(second, scenario)]);
                    table.Append(string.Create(CultureInfo.InvariantCulture,
                        $"| {scenario} | {a.Rate:0} | {b.Rate:0} | {(a.Rate > 0 ? (b.Rate / a.Rate).ToString("0.00", CultureInfo.InvariantCulture) : "—")} | " +
                        $"{PerAnswer(a.Rate)} → {PerAnswer(b.Rate)} | {a.P50:0.##} → {b.P50:0.##} ({b.P50 - a.P50:+0.##;-0.##;0}) |\n"));
                }
            }
            if (table.Length > 0) File.AppendAllText(path, table.Append('\n').ToString(), Encoding.UTF8);
        }

        private static string PerAnswer(double rate) => rate > 0 ? (1e6 / rate).ToString("0", CultureInfo.InvariantCulture) : "—";

        private static string Kinds(ScenarioResult r) =>
            r.Errors == 0 ? "" : " (" + string.Join(", ", r.ErrorKinds.Select(kv => $"{kv.Key}×{kv.Value}")) + ")";

        private static string Ms(long micros) => (micros / 1000.0).ToString(micros < 10_000 ? "0.00" : "0.0", CultureInfo.InvariantCulture);
    }

    public sealed class BenchOptions
    {
        public Uri Url => Urls[0];
        /// <summary>Every API node given to <c>--url</c>; workers take them round-robin.</summary>
        public IReadOnlyList<Uri> Urls { get; private set; } = [new("http://localhost:5080/")];
        public string? FaultCommand { get; private set; }
        public double FaultAtSeconds { get; private set; } = 5;
        public double FaultEverySeconds { get; private set; }
        public string Token { get; private set; } = "";
        public double DurationSeconds { get; private set; } = 10;
        public double WarmupSeconds { get; private set; } = 2;
        public int Concurrency { get; private set; } = 64;
        public int Issuers { get; private set; } = 1_000;
        public int SearchIssuers { get; private set; } = 10_000;
        public int Orgs { get; private set; } = 20;
        public int Images { get; private set; } = 100_000;
        public int UploadConcurrency { get; private set; } = 96;
        public long MaxRequests { get; private set; } = 5_000_000;
        public double SeedTimeoutSeconds { get; private set; } = 180;
        public HashSet<string> Scenarios { get; private set; } = [.. Bench.AllScenarios];
        public string OutputPath { get; private set; } = "bench-results.md";
        public string Label { get; private set; } = "service";
        public int ActivationItems { get; private set; } = 100_000;
        public string? ActivationPostgres { get; private set; } = Environment.GetEnvironmentVariable("BENCH_ACTIVATION_POSTGRES");
        public bool Help { get; private set; }
        public string? ApiDll { get; private set; }
        public double RampSeconds { get; private set; } = 10;
        public double RampWarmSeconds { get; private set; } = 5;
        /// <summary>Where plots (PNG) and their data (CSV) go; default: beside <see cref="OutputPath"/>.</summary>
        public string PlotDirectory => _plotDirectory ?? Path.GetDirectoryName(Path.GetFullPath(OutputPath))!;
        private string? _plotDirectory;
        /// <summary>Only append the ratio tables (postgres/sqlite, cluster/postgres) to <see cref="OutputPath"/>; measure nothing.</summary>
        public bool RatiosOnly { get; private set; }

        public const string Usage = """
            usage: dotnet run -c Release --project bench/Credentials.Bench -- [options]
              --url URL[,URL…]     service base URL(s), loopback only (default http://localhost:5080);
                                   several API nodes share every scenario's load round-robin
              --token TOKEN        super-admin token (default: env CREDENTIALS_ADMIN_TOKEN)
              --scenarios LIST     comma list of ceiling,read-list,read-search,image-search,write-create,
                                   write-create-20,svg-inspection (default: all); image-search gives three rows:
                                   image-upload, image-search-rare, image-search-common.
                                   Only when named: upload (distinct PNGs, timed), media-get,
                                   fault-writes (issuers + uploads over --orgs orgs for --duration,
                                   --fault-command run meanwhile, every acknowledged write read back; a
                                   latency-over-time PNG beside --out), ramp (a fresh service process
                                   from --api-dll under load from its first ready moment; PNG + CSV)
              --fault-command CMD  bash command run during fault-writes (e.g. a PostgreSQL restart)
              --fault-at SECS      when it first runs (default 5)
              --fault-every SECS   run it again this long after the previous run ended (default: once)
              --duration SECS      measured seconds per scenario (default 10)
              --warmup SECS        unrecorded warm-up per scenario (default 2)
              --concurrency N      requests in flight (default 64)
              --issuers N          issuers in the read-list org (default 1000)
              --search-issuers N   issuers in the read-search org, 1 % match (default 10000)
              --orgs N             orgs for write-create-20 (default 20)
              --images N           image records uploaded for image-search, 1 % named "needle" (default 100000)
              --upload-concurrency N  uploads in flight while filling the image org (default 96)
              --max-requests N     request budget per scenario, warm-up included (default 5000000)
              --seed-timeout SECS  deadline for filling one org, issuers or images (default 180)
              --api-dll PATH       Credentials.Api.dll for ramp (started twice: to seed, then fresh)
              --ramp-seconds SECS  ramp window after ready (default 10), then --ramp-warm-seconds (5) warm
              --plot-dir DIR       where PNG plots and their CSV go (default: the --out file's directory)
              --label TEXT         backend label in the table (default "service")
              --activation-items N   issuers and images per org in the activation scenario (default 100000)
              --activation-postgres CONN  activation on this PostgreSQL (default: env BENCH_ACTIVATION_POSTGRES,
                                   else a SQLite file in /tmp)
              --out FILE           Markdown file the table rows are appended to (default bench-results.md)
              --ratios             measure nothing: append to --out the postgres/sqlite and cluster/postgres
                                   ratios of every scenario measured on both (bench/run.sh does, at the end)
            """;

        public static BenchOptions Parse(string[] args)
        {
            var o = new BenchOptions { Token = Environment.GetEnvironmentVariable("CREDENTIALS_ADMIN_TOKEN") ?? "" };
            for (var i = 0; i < args.Length; i++)
            {
                var arg = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
                switch (arg)
                {
                    case "-h" or "--help": o.Help = true; break;
                    case "--url": o.Urls = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseUrl)]; break;
                    case "--fault-command": o.FaultCommand = Value(); break;
                    case "--fault-at": o.FaultAtSeconds = Number(arg, Value(), 0, 3600); break;
                    case "--fault-every": o.FaultEverySeconds = Number(arg, Value(), 0, 3600); break;
                    case "--token": o.Token = Value(); break;
                    case "--duration": o.DurationSeconds = Number(arg, Value(), 1, 600); break;
                    case "--warmup": o.WarmupSeconds = Number(arg, Value(), 0, 60); break;
                    case "--concurrency": o.Concurrency = (int)Number(arg, Value(), 1, 1024); break;
                    case "--issuers": o.Issuers = (int)Number(arg, Value(), 50, 200_000); break;
                    case "--search-issuers": o.SearchIssuers = (int)Number(arg, Value(), 100, 200_000); break;
                    case "--orgs": o.Orgs = (int)Number(arg, Value(), 2, 1000); break;
                    case "--images": o.Images = (int)Number(arg, Value(), 100, 1_000_000); break;
                    case "--upload-concurrency": o.UploadConcurrency = (int)Number(arg, Value(), 1, 1024); break;
                    case "--max-requests": o.MaxRequests = (long)Number(arg, Value(), 1, 100_000_000); break;
                    case "--seed-timeout": o.SeedTimeoutSeconds = Number(arg, Value(), 1, 3600); break;
                    case "--api-dll": o.ApiDll = Path.GetFullPath(Value()); break;
                    case "--ramp-seconds": o.RampSeconds = Number(arg, Value(), 3, 120); break;
                    case "--ramp-warm-seconds": o.RampWarmSeconds = Number(arg, Value(), 1, 120); break;
                    case "--plot-dir": o._plotDirectory = Path.GetFullPath(Value()); break;
                    case "--label": o.Label = Value().Replace('|', '/'); break;
                    case "--activation-items": o.ActivationItems = (int)Number(arg, Value(), 1000, 250_000); break;
                    case "--activation-postgres": o.ActivationPostgres = Value(); break;
                    case "--out": o.OutputPath = Value(); break;
                    case "--ratios": o.RatiosOnly = true; break;
                    case "--scenarios":
                        var list = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                        var unknown = list.Except(Bench.AllScenarios.Concat(Bench.ExtraScenarios)).ToArray();
                        if (unknown.Length > 0) throw new ArgumentException($"unknown scenario(s): {string.Join(", ", unknown)}.");
                        o.Scenarios = [.. list];
                        break;
                    default: throw new ArgumentException($"unknown option {arg}.");
                }
            }
            if (!o.Help && !o.RatiosOnly && o.Token.Length == 0 && o.Scenarios.Any(s => s != "activation")) throw new ArgumentException("no token: pass --token or set CREDENTIALS_ADMIN_TOKEN.");
            return o;
        }

        private static double Number(string name, string text, double min, double max)
        {
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                throw new ArgumentException($"{name} must be a number from {min} to {max}.");
            }
            return value;
        }

        /// <summary>Only loopback targets: this tool generates load and must never aim it elsewhere.</summary>
        private static Uri ParseUrl(string text)
        {
            if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"--url must be an absolute http(s) URL: {text}");
            }
            var loopback = url.IsLoopback
                || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
            if (!loopback) throw new ArgumentException($"--url must point at a loopback address (localhost, 127.0.0.0/8, ::1), not {url.Host}.");
            return url;
        }
    }
}
