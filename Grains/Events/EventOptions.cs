namespace Credentials.Grains.Events;

/// <summary>
/// Section <c>Events</c>: how long an org's event log (C4) keeps its events, and the most it keeps.
/// Bound and validated in the silo, where the org grain keeps the log.
/// </summary>
public sealed class EventOptions
{
    public const string Section = "Events";

    /// <summary>Days an event is kept (default 90); older ones are dropped as the org writes.</summary>
    public int RetentionDays { get; set; } = 90;

    /// <summary>
    /// Events one org keeps whatever their age (default 100,000): the oldest go first. The log has
    /// this cap of its own and is not counted in <c>Limits:MaxOrgRecordBytes</c>, so it can never
    /// make a write answer 409 (ADR 0015).
    /// </summary>
    public int MaxPerOrg { get; set; } = 100_000;

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);

    public bool IsValid => RetentionDays is >= 1 and <= 36_500 && MaxPerOrg is >= 1_000 and <= 10_000_000;

    public const string ValidationMessage =
        "Events:RetentionDays must be between 1 and 36500; Events:MaxPerOrg between 1000 and 10000000.";
}
