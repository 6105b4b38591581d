using System.ComponentModel.DataAnnotations;

namespace Credentials.Api.Extensions;

/// <summary>Section <c>RateLimiting</c> (B2b).</summary>
public sealed class RateLimitingOptions
{
    public bool Enabled { get; set; } = true;

    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 200;

    [Range(1, 10_000_000)]
    public int Burst { get; set; } = 1000;

    /// <summary>Refill rate of each client address's bucket for calls without valid credentials (none, or refused).</summary>
    [Range(1, 1_000_000)]
    public int AnonymousPermitsPerSecond { get; set; } = 100;

    [Range(1, 10_000_000)]
    public int AnonymousBurst { get; set; } = 500;
}
