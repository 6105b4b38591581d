using System.Collections.Concurrent;

namespace Credentials.Grains.Hosting;

/// <summary>
/// The value of the <c>org</c> tag on per-org metrics, bounded: the first <c>max</c> orgs this
/// process admits keep their own value for its lifetime, every other org is <see cref="Other"/>.
/// Each distinct tag value is a time series kept forever by the SDK and the metrics backend, so an
/// unbounded tag would let tenants (or anyone naming orgs in URLs) grow both without limit.
/// </summary>
public sealed class OrgTags(int max)
{
    public const string Other = "other";
    private readonly ConcurrentDictionary<string, string> _admitted = new(StringComparer.Ordinal);
    private int _count;

    public int Max { get; } = max;

    /// <summary>
    /// The tag for <paramref name="org"/>. Only <paramref name="admit"/> calls (the caller says the org
    /// is real, e.g. it answered a request successfully) may take a free slot.
    /// </summary>
    public string For(string? org, bool admit)
    {
        if (string.IsNullOrEmpty(org)) return Other;
        if (_admitted.TryGetValue(org, out var tag)) return tag;
        if (!admit || Volatile.Read(ref _count) >= Max) return Other;
        lock (_admitted)
        {
            if (_admitted.TryGetValue(org, out tag)) return tag;
            if (_count >= Max) return Other;
            _admitted[org] = org;
            Volatile.Write(ref _count, _count + 1);
            return org;
        }
    }
}
