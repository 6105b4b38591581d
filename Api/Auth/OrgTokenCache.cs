using System.Collections.Concurrent;
using Credentials.Api.Extensions;
using Credentials.Grains;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Auth;

/// <summary>
/// Remembers, per API node and for a short while, what the org grain said about a token hash, so
/// a busy token costs one grain call per node every few seconds. The lifetime bounds how long a
/// revoked token is still accepted on a node (<c>Auth:TokenCacheSeconds</c>, default 2, at most 5).
/// Only tokens of orgs that exist get here (<see cref="OrgDirectoryCache"/>).
/// </summary>
public sealed class OrgTokenCache(IGrainFactory grains, IOptions<AuthOptions> options, TimeProvider clock)
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<string, (string? Name, long Expires)> _entries = new(StringComparer.Ordinal);
    private readonly TimeSpan _lifetime = TimeSpan.FromSeconds(Math.Clamp(options.Value.TokenCacheSeconds, 0, 5));

    /// <summary>The remembered answer (a token name, or null for a refused token), without asking a grain.</summary>
    public bool TryGetCached(string org, byte[] hash, out string? name)
    {
        name = null;
        if (!_entries.TryGetValue(KeyOf(org, hash), out var entry) || clock.GetTimestamp() >= entry.Expires) return false;
        name = entry.Name;
        return true;
    }

    /// <summary>Asks the org grain and remembers its answer.</summary>
    public async ValueTask<string?> AuthenticateAsync(string org, byte[] hash)
    {
        var name = await grains.GetOrgGrain(org).AuthenticateToken(hash);
        // Bounded: a flood of made-up tokens empties the cache rather than growing it.
        if (_entries.Count >= MaxEntries) _entries.Clear();
        _entries[KeyOf(org, hash)] = (name, clock.GetTimestamp() + (long)(_lifetime.TotalSeconds * clock.TimestampFrequency));
        return name;
    }

    private static string KeyOf(string org, byte[] hash) => org + ":" + Convert.ToBase64String(hash);
}
