using System.Collections.Concurrent;
using Credentials.Api.Extensions;
using Credentials.Grains;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Auth;

/// <summary>
/// Remembers, per API node and for a short while, what the org grain said about a token hash, so
/// a busy token costs one grain call per node every few seconds. The lifetime bounds how long a
/// revoked token is still accepted on a node (<c>Auth:TokenCacheSeconds</c>, default 2, at most 5).
/// </summary>
public sealed class OrgTokenCache(IGrainFactory grains, IOptions<AuthOptions> options, TimeProvider clock)
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<string, (string? Name, long Expires)> _entries = new(StringComparer.Ordinal);
    private readonly TimeSpan _lifetime = TimeSpan.FromSeconds(Math.Clamp(options.Value.TokenCacheSeconds, 0, 5));

    public async ValueTask<string?> AuthenticateAsync(string org, byte[] hash)
    {
        var key = org + ":" + Convert.ToBase64String(hash);
        var now = clock.GetTimestamp();
        if (_entries.TryGetValue(key, out var entry) && now < entry.Expires) return entry.Name;

        var name = await grains.GetGrain<IOrgGrain>(org).AuthenticateToken(hash);
        // Bounded: a flood of made-up tokens empties the cache rather than growing it.
        if (_entries.Count >= MaxEntries) _entries.Clear();
        _entries[key] = (name, now + (long)(_lifetime.TotalSeconds * clock.TimestampFrequency));
        return name;
    }
}
