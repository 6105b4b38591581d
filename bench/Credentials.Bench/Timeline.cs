using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Credentials.Bench;

/// <summary>One interval of a <see cref="Timeline"/>: answers completed in it and their latency.</summary>
public sealed record TimelineInterval(double StartSeconds, long Completed, long Errors, double P50Ms, double P99Ms, double MaxMs);

/// <summary>
/// Every completed request with its completion time, so a run can be cut into short intervals
/// (throughput and latency over time: a fresh process's ramp, a fault). One list per worker; read
/// only after the workers have stopped.
/// </summary>
public sealed class Timeline(long originTimestamp)
{
    private readonly List<List<Sample>> _workers = [];

    public long Origin => originTimestamp;

    private readonly record struct Sample(double DoneSeconds, double LatencyMs, bool Ok);

    /// <summary>A recorder for one worker (not thread-safe; one per worker).</summary>
    public Action<long, long, bool> NewWorker()
    {
        var samples = new List<Sample>(4096);
        lock (_workers) _workers.Add(samples);
        return (sentTs, doneTs, ok) => samples.Add(new Sample(
            Stopwatch.GetElapsedTime(originTimestamp, doneTs).TotalSeconds,
            Stopwatch.GetElapsedTime(sentTs, doneTs).TotalMilliseconds, ok));
    }

    /// <summary>A timeline of answers recorded elsewhere, in seconds from that run's own origin.</summary>
    public static Timeline FromSamples(IEnumerable<(double DoneSeconds, double LatencyMs, bool Ok)> samples)
    {
        var timeline = new Timeline(0);
        timeline._workers.Add([.. samples.Select(s => new Sample(s.DoneSeconds, s.LatencyMs, s.Ok))]);
        return timeline;
    }

    /// <summary>Intervals of <paramref name="step"/> seconds from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public IReadOnlyList<TimelineInterval> Intervals(double from, double to, double step)
    {
        var count = (int)Math.Ceiling((to - from) / step - 1e-9);
        var buckets = new List<double>[count];
        var errors = new long[count];
        for (var i = 0; i < count; i++) buckets[i] = [];
        foreach (var sample in _workers.SelectMany(w => w))
        {
            if (sample.DoneSeconds < from || sample.DoneSeconds >= to) continue;
            var i = Math.Min(count - 1, (int)((sample.DoneSeconds - from) / step));
            buckets[i].Add(sample.LatencyMs);
            if (!sample.Ok) errors[i]++;
        }
        return [.. buckets.Select((latencies, i) =>
        {
            latencies.Sort();
            double At(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
            return new TimelineInterval(from + i * step, latencies.Count, errors[i], At(0.5), At(0.99), latencies.Count == 0 ? double.NaN : latencies[^1]);
        })];
    }

    /// <summary>The answers completed between two points as one row (errors: non-2xx answers and failures).</summary>
    public ScenarioResult Window(string scenario, string detail, int concurrency, double from, double to)
    {
        var latency = new LatencyHistogram();
        long errors = 0;
        foreach (var sample in _workers.SelectMany(w => w).Where(s => s.DoneSeconds >= from && s.DoneSeconds < to))
        {
            latency.Record((long)(sample.LatencyMs * 1000));
            if (!sample.Ok) errors++;
        }
        var kinds = errors == 0 ? new Dictionary<string, long>() : new Dictionary<string, long> { ["failed"] = errors };
        return new ScenarioResult(scenario, detail, concurrency, to - from, latency.Count, errors, kinds, latency);
    }

    /// <summary>Answers completed per second between two points.</summary>
    public double Rate(double from, double to) =>
        _workers.SelectMany(w => w).Count(s => s.DoneSeconds >= from && s.DoneSeconds < to) / (to - from);

    public static void WriteCsv(string path, IReadOnlyList<TimelineInterval> intervals, double step)
    {
        var csv = new StringBuilder("start_s,completed,per_second,errors,p50_ms,p99_ms,max_ms\n");
        foreach (var i in intervals)
        {
            csv.Append(string.Create(CultureInfo.InvariantCulture,
                $"{i.StartSeconds:0.00},{i.Completed},{i.Completed / step:0},{i.Errors},{i.P50Ms:0.00},{i.P99Ms:0.00},{i.MaxMs:0.00}\n"));
        }
        File.WriteAllText(path, csv.ToString());
    }
}
