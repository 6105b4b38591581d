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
    /// Base64 of 32 bytes: the key signing secrets are sealed with (AES-GCM, ADR 0019). Required,
    /// or <see cref="SecretKeyFile"/>, on silos that share a database (AdoNet membership); a lone
    /// silo without either generates one in its data directory (<see cref="WebhookKeyFile"/>).
    /// </summary>
    public string? SecretKey { get; set; }

    /// <summary>A file holding the key as base64 (e.g. a mounted Secret); instead of <see cref="SecretKey"/>.</summary>
    public string? SecretKeyFile { get; set; }

    /// <summary>Keys that sealed secrets before a rotation: read with, never sealed with; secrets are resealed under the current key as their org activates.</summary>
    public string[]? PreviousSecretKeys { get; set; }

    public bool HasConfiguredKey => !string.IsNullOrEmpty(SecretKey) || !string.IsNullOrEmpty(SecretKeyFile);

    public const int MaxPerOrg = 10;
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    public bool IsValid =>
        RetryBaseSeconds > 0 && RetryMaxSeconds >= RetryBaseSeconds && RetryWindowHours > 0 && WakeSeconds >= 1
        && (string.IsNullOrEmpty(SecretKey) || WebhookSecrets.IsValidKey(SecretKey))
        && (string.IsNullOrEmpty(SecretKey) || string.IsNullOrEmpty(SecretKeyFile))
        && (PreviousSecretKeys ?? []).All(WebhookSecrets.IsValidKey);

    public const string ValidationMessage =
        "Webhooks:RetryBaseSeconds must be positive and at most Webhooks:RetryMaxSeconds, Webhooks:RetryWindowHours positive, " +
        "Webhooks:WakeSeconds at least 1, Webhooks:SecretKey (when set) and each of Webhooks:PreviousSecretKeys the base64 of 32 bytes, " +
        "and at most one of Webhooks:SecretKey and Webhooks:SecretKeyFile set.";

    public const string MissingKeyMessage =
        "Webhooks:SecretKey (base64 of 32 bytes, e.g. `openssl rand -base64 32`) or Webhooks:SecretKeyFile must be set on a silo " +
        "that shares its database with other silos: every silo seals and opens webhook signing secrets with the same key.";

    /// <summary>The wait after the <paramref name="failures"/>-th failed attempt in a row: base × 2^(n−1), capped.</summary>
    public TimeSpan RetryDelay(int failures)
    {
        var seconds = RetryBaseSeconds * Math.Pow(2, Math.Min(failures - 1, 40));
        return TimeSpan.FromSeconds(Math.Min(seconds, RetryMaxSeconds));
    }
}
