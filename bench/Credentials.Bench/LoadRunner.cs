using System.Diagnostics;
using System.Net;

namespace Credentials.Bench;

/// <summary>What one scenario measured.</summary>
public sealed record ScenarioResult(
    string Scenario,
    string Detail,
    int Concurrency,
    double MeasuredSeconds,
    long Requests,
    long Errors,
    IReadOnlyDictionary<string, long> ErrorKinds,
    LatencyHistogram Latency)
{
    public double RequestsPerSecond => MeasuredSeconds <= 0 ? 0 : Requests / MeasuredSeconds;

    /// <summary>Successful (2xx) responses per second: for writes, acknowledged writes per second.</summary>
    public double SuccessesPerSecond => MeasuredSeconds <= 0 ? 0 : (Requests - Errors) / MeasuredSeconds;
}

/// <summary>
/// Closed-loop load: <c>concurrency</c> workers each send one request, read the whole response,
/// and send the next. A warm-up runs first and is not recorded; then every response completed
/// inside the measured window is recorded (latency from send to last body byte). The loop is
/// bounded by time and by a request budget (<c>maxRequests</c>, warm-up included). A
/// <see cref="Timeline"/>, when given, gets every answer, warm-up included, with its time.
/// </summary>
public static class LoadRunner
{
    /// <summary>Builds request number <c>sequence</c> of worker <c>worker</c>.</summary>
    public delegate HttpRequestMessage RequestFactory(int worker, long sequence);

    public static HttpClient NewClient(int concurrency) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = concurrency,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        UseCookies = false,
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestVersion = HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    public static async Task<ScenarioResult> RunAsync(
        string scenario, string detail, HttpClient client, RequestFactory newRequest,
        int concurrency, TimeSpan warmup, TimeSpan duration, long maxRequests, Timeline? timeline = null)
    {
        var frequency = (double)Stopwatch.Frequency;
        var startTs = Stopwatch.GetTimestamp();
        var measureStartTs = startTs + (long)(warmup.TotalSeconds * frequency);
        var endTs = measureStartTs + (long)(duration.TotalSeconds * frequency);
        long issued = 0;
        long budgetExhaustedTs = 0;

        var workers = new Worker[concurrency];
        var tasks = new Task[concurrency];
        for (var w = 0; w < concurrency; w++)
        {
            var worker = workers[w] = new Worker();
            var id = w;
            var onAnswer = timeline?.NewWorker();
            tasks[w] = Task.Run(async () =>
            {
                var buffer = new byte[16 * 1024];
                long sequence = 0;
                while (true)
                {
                    var sent = Stopwatch.GetTimestamp();
                    if (sent >= endTs) break;
                    if (Interlocked.Increment(ref issued) > maxRequests)
                    {
                        Interlocked.CompareExchange(ref budgetExhaustedTs, sent, 0);
                        break;
                    }

                    string? error = null;
                    try
                    {
                        using var request = newRequest(id, sequence++);
                        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                        await using (var body = await response.Content.ReadAsStreamAsync())
                        {
                            while (await body.ReadAsync(buffer) > 0) { }
                        }
                        if (!response.IsSuccessStatusCode) error = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                    {
                        error = ex.GetType().Name;
                    }

                    var done = Stopwatch.GetTimestamp();
                    onAnswer?.Invoke(sent, done, error is null);
                    if (done < measureStartTs || done > endTs) continue;
                    worker.Latency.Record((long)((done - sent) * 1_000_000.0 / frequency));
                    if (error is not null)
                    {
                        worker.Errors++;
                        worker.ErrorKinds[error] = worker.ErrorKinds.GetValueOrDefault(error) + 1;
                    }
                }
            });
        }
        await Task.WhenAll(tasks);

        // If the request budget ran out first, the window closed when the last worker stopped.
        var closedTs = endTs;
        if (budgetExhaustedTs > 0 && budgetExhaustedTs < endTs)
        {
            closedTs = Math.Clamp(Stopwatch.GetTimestamp(), measureStartTs, endTs);
        }
        var latency = new LatencyHistogram();
        long errors = 0;
        var kinds = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var worker in workers)
        {
            latency.Merge(worker.Latency);
            errors += worker.Errors;
            foreach (var (kind, n) in worker.ErrorKinds) kinds[kind] = kinds.GetValueOrDefault(kind) + n;
        }
        return new ScenarioResult(scenario, detail, concurrency, (closedTs - measureStartTs) / frequency,
            latency.Count, errors, kinds, latency);
    }

    private sealed class Worker
    {
        public LatencyHistogram Latency { get; } = new();
        public long Errors { get; set; }
        public Dictionary<string, long> ErrorKinds { get; } = new(StringComparer.Ordinal);
    }
}
