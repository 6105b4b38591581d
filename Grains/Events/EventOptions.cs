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
    /// Events one org keeps whatever their age (default 10,000): the oldest go first. The log has
    /// this cap of its own and is not counted in <c>Limits:MaxOrgRecordBytes</c>, so it can never
    /// make a write answer 409 (ADR 0015). The whole log is read when the org activates and held in
    /// memory while it is active (about 400 bytes an event): 100,000 events made a cold org's first
    /// answer ~0.2 s slower and held ~40 MB (issue 12, ADR 0015 amendment).
    /// </summary>
    public int MaxPerOrg { get; set; } = 10_000;

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);

    public bool IsValid => RetentionDays is >= 1 and <= 36_500 && MaxPerOrg is >= 1_000 and <= 10_000_000;

    public const string ValidationMessage =
        "Events:RetentionDays must be between 1 and 36500; Events:MaxPerOrg between 1000 and 10000000.";
}
