namespace Credentials.Bench;

/// <summary>
/// An HDR-style log-linear latency histogram in microseconds: exact below 1,024 µs, then 512
/// sub-buckets per power of two (at most 0.2 % relative error), up to about 2^40 µs. Constant
/// memory whatever the run's length; one per worker (not thread-safe), merged at the end.
/// </summary>
public sealed class LatencyHistogram
{
    private const int LinearLimit = 1024;          // values below are exact
    private const int SubBuckets = 512;            // per power of two above LinearLimit
    private const int LinearBits = 10;             // log2(LinearLimit)
    private const int MaxExponent = 40;
    private static readonly int BucketCount = LinearLimit + (MaxExponent - LinearBits + 1) * SubBuckets;

    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }
    public long MaxMicros { get; private set; }
    public long MinMicros { get; private set; } = long.MaxValue;
    private double _sumMicros;

    public void Record(long micros)
    {
        if (micros < 0) micros = 0;
        _counts[IndexOf(micros)]++;
        Count++;
        _sumMicros += micros;
        if (micros > MaxMicros) MaxMicros = micros;
        if (micros < MinMicros) MinMicros = micros;
    }

    public void Merge(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
        Count += other.Count;
        _sumMicros += other._sumMicros;
        MaxMicros = Math.Max(MaxMicros, other.MaxMicros);
        MinMicros = Math.Min(MinMicros, other.MinMicros);
    }

    public double MeanMicros => Count == 0 ? 0 : _sumMicros / Count;

    /// <summary>The smallest recorded value v such that at least <paramref name="percentile"/> % of values are ≤ v (bucket midpoint).</summary>
    public long PercentileMicros(double percentile)
    {
        if (Count == 0) return 0;
        var rank = (long)Math.Ceiling(percentile / 100.0 * Count);
        rank = Math.Clamp(rank, 1, Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return Math.Min(ValueOf(i), MaxMicros);
        }
        return MaxMicros;
    }

    private static int IndexOf(long value)
    {
        if (value < LinearLimit) return (int)value;
        var exponent = 63 - (int)long.LeadingZeroCount(value);         // ≥ LinearBits
        if (exponent > MaxExponent) return BucketCount - 1;
        var shift = exponent - (LinearBits - 1);                   // keeps 10 significant bits: 512..1023
        var sub = (int)(value >> shift) - SubBuckets;              // 0..511
        return LinearLimit + (exponent - LinearBits) * SubBuckets + sub;
    }

    /// <summary>The midpoint of bucket <paramref name="index"/>.</summary>
    private static long ValueOf(int index)
    {
        if (index < LinearLimit) return index;
        var rest = index - LinearLimit;
        var exponent = rest / SubBuckets + LinearBits;
        var sub = rest % SubBuckets;
        var shift = exponent - (LinearBits - 1);
        var low = (long)(sub + SubBuckets) << shift;
        return low + ((1L << shift) >> 1);
    }
}
