namespace Credentials.Grains.Idempotency;

/// <summary>Section <c>Idempotency</c> (contract C3): how many keys an org keeps and how large an answer may be kept.</summary>
public sealed class IdempotencyOptions
{
    public const string Section = "Idempotency";

    /// <summary>How long a key replays its first answer (the contract's 24 hours).</summary>
    public static readonly TimeSpan KeyLifetime = TimeSpan.FromHours(24);

    /// <summary>Keys one org keeps; past it the oldest key is dropped before its 24 hours (default 10,000).</summary>
    public int MaxKeysPerOrg { get; set; } = 10_000;

    /// <summary>Largest answer body kept for replay (default 1 MiB); a larger answer is sent but not kept.</summary>
    public int MaxAnswerBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How long a running request holds its key (default 120 s). A repeat within it is 409; after it
    /// (an API node that crashed mid-request) the key can be claimed again.
    /// </summary>
    public int LeaseSeconds { get; set; } = 120;

    public bool IsValid => MaxKeysPerOrg is > 0 and <= 1_000_000 && MaxAnswerBytes is > 0 and <= 16 * 1024 * 1024 && LeaseSeconds is > 0 and <= 3600;

    public const string ValidationMessage =
        "Idempotency:MaxKeysPerOrg must be 1 to 1000000, Idempotency:MaxAnswerBytes 1 to 16777216, Idempotency:LeaseSeconds 1 to 3600.";
}
