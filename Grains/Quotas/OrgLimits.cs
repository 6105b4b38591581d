namespace Credentials.Grains.Quotas;

/// <summary>
/// Section <c>Limits</c> (contract B6): what one org may store, in bytes, and how much one grain
/// reply may carry. Bound and validated in the silo, where the org grain enforces them.
/// </summary>
public sealed class OrgLimits
{
    public const string Section = "Limits";

    /// <summary>Issuer and image records of one org, measured by <see cref="RecordSize"/> (default 128 MiB).</summary>
    public long MaxOrgRecordBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Distinct stored image bytes of one org: each blob counted once, however many records use it (default 1 GiB).</summary>
    public long MaxOrgImageBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>
    /// Records one grain reply may carry (measured by <see cref="RecordSize"/>, default 4 MiB); a
    /// larger page is fetched in several calls. A reply always holds at least one record.
    /// </summary>
    public int MaxReplyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Well below Orleans' largest message (100 MB by default).</summary>
    public const int MaxReplyBytesCeiling = 64 * 1024 * 1024;

    public bool IsValid => MaxOrgRecordBytes > 0 && MaxOrgImageBytes > 0 && MaxReplyBytes is > 0 and <= MaxReplyBytesCeiling;

    public const string ValidationMessage =
        "Limits:MaxOrgRecordBytes and Limits:MaxOrgImageBytes must be positive; Limits:MaxReplyBytes between 1 and 67108864 (64 MiB).";
}
