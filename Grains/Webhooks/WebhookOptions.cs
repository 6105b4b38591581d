namespace Credentials.Grains.Webhooks;

/// <summary>Section <c>Webhooks</c> (contract C5): delivery retries, target checks and the secrets' key at rest.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Lifts the SSRF checks (https only, no loopback/private/link-local targets): development and tests only.</summary>
    public bool AllowInsecureTargets { get; set; }

    /// <summary>The first retry's delay; each failed attempt doubles it, up to <see cref="RetryMaxSeconds"/>.</summary>
    public double RetryBaseSeconds { get; set; } = 5;

    /// <summary>The longest wait between two attempts (default 1 hour).</summary>
    public double RetryMaxSeconds { get; set; } = 3600;

    /// <summary>
    /// How long one event is retried before the webhook's backlog is given up (default 24 h, the
    /// contract's minimum for production): the deliveries log then names the events skipped, and
    /// the receiver can read them from the events feed.
    /// </summary>
    public double RetryWindowHours { get; set; } = 24;

    /// <summary>How often a webhook's reminder wakes its delivery after a restart or silo loss (default 60 s).</summary>
    public double WakeSeconds { get; set; } = 60;

    /// <summary>
    /// Base64 of 32 bytes: when set, signing secrets are stored AES-GCM encrypted with it. Secrets
    /// stored without a key stay readable; secrets stored with one need it to be delivered.
    /// </summary>
    public string? SecretKey { get; set; }

    public const int MaxPerOrg = 10;
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    public bool IsValid =>
        RetryBaseSeconds > 0 && RetryMaxSeconds >= RetryBaseSeconds && RetryWindowHours > 0 && WakeSeconds >= 1
        && (string.IsNullOrEmpty(SecretKey) || WebhookSecrets.IsValidKey(SecretKey));

    public const string ValidationMessage =
        "Webhooks:RetryBaseSeconds must be positive and at most Webhooks:RetryMaxSeconds, Webhooks:RetryWindowHours positive, " +
        "Webhooks:WakeSeconds at least 1, and Webhooks:SecretKey (when set) the base64 of 32 bytes.";

    /// <summary>The wait after the <paramref name="failures"/>-th failed attempt in a row: base × 2^(n−1), capped.</summary>
    public TimeSpan RetryDelay(int failures)
    {
        var seconds = RetryBaseSeconds * Math.Pow(2, Math.Min(failures - 1, 40));
        return TimeSpan.FromSeconds(Math.Min(seconds, RetryMaxSeconds));
    }
}
