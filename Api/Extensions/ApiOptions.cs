using System.ComponentModel.DataAnnotations;
using System.Net;

namespace Credentials.Api.Extensions;

/// <summary>Section <c>Api</c>: how the front end forms URLs, whom it believes about them, and what bodies it accepts.</summary>
public sealed class ApiOptions : IValidatableObject
{
    /// <summary>Absolute base URL used in links (pagination, media); else taken from the request.</summary>
    [Url]
    public string? PublicBaseUrl { get; set; }

    /// <summary>
    /// Proxies (comma-separated IP addresses) whose X-Forwarded-For/Proto/Host are honoured: the
    /// client address (rate limits) and the links' scheme and host then come from them.
    /// </summary>
    public string? KnownProxies { get; set; }

    /// <summary>Networks (comma-separated CIDR, e.g. <c>10.0.0.0/8</c>) whose every address is such a proxy.</summary>
    public string? KnownNetworks { get; set; }

    /// <summary>
    /// Longest start-up warm-up (seconds) before readiness says yes: the hot paths are run so the
    /// first clients of a fresh node do not pay for the JIT. 0 turns it off.
    /// </summary>
    [Range(0, 60)]
    public double WarmupSeconds { get; set; } = 10;

    /// <summary>
    /// Thread-pool worker threads per core available at once, before the pool's own slow growth
    /// (it adds a few per second): a fresh node under many connections needs them while start-up
    /// work still blocks some. 0 keeps the runtime's default (one per core).
    /// </summary>
    [Range(0, 64)]
    public int MinWorkerThreadsPerCore { get; set; } = 8;

    /// <summary>Removed: it trusted forwarding headers from anyone. Setting it true fails start-up.</summary>
    public bool TrustForwardedHeaders { get; set; }

    /// <summary>The valid entries of <see cref="KnownProxies"/> (start-up validation reports the others).</summary>
    public IEnumerable<IPAddress> Proxies() =>
        Split(KnownProxies).Select(p => IPAddress.TryParse(p, out var address) ? address : null).OfType<IPAddress>();

    public IEnumerable<IPNetwork> Networks() =>
        Split(KnownNetworks).Select(n => IPNetwork.TryParse(n, out var network) ? (IPNetwork?)network : null).OfType<IPNetwork>();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TrustForwardedHeaders)
        {
            yield return new ValidationResult("Api:TrustForwardedHeaders was removed: list your proxies in Api:KnownProxies or Api:KnownNetworks instead.",
                [nameof(TrustForwardedHeaders)]);
        }
        foreach (var proxy in Split(KnownProxies).Where(p => !IPAddress.TryParse(p, out _)))
        {
            yield return new ValidationResult($"Api:KnownProxies: '{proxy}' is not an IP address.", [nameof(KnownProxies)]);
        }
        foreach (var network in Split(KnownNetworks).Where(n => !IPNetwork.TryParse(n, out _)))
        {
            yield return new ValidationResult($"Api:KnownNetworks: '{network}' is not a network in CIDR notation (e.g. 10.0.0.0/8).", [nameof(KnownNetworks)]);
        }
    }

    private static string[] Split(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Bytes of issuer-page JSON this node keeps to answer repeated reads without serialising them
    /// again (validated against the org grain on every read, ADR 0018). 0 turns it off.
    /// </summary>
    [Range(0d, 1024d * 1024 * 1024)]
    public long PageCacheBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest JSON or form body accepted for issuer and platform writes.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public long MaxBodyBytes { get; set; } = 1024 * 1024;
}
