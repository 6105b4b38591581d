using System.Globalization;

namespace Credentials.Grains.Quotas;

/// <summary>
/// What one org stores, in bytes, against its <see cref="OrgLimits"/>. The org grain recomputes it
/// from its loaded state at activation and changes it in the same turn as the records, so it never
/// drifts from what is stored. Not thread-safe: the grain runs one turn at a time.
/// </summary>
public sealed class OrgUsage(OrgLimits limits)
{
    /// <summary>Issuer and image records, by <see cref="RecordSize"/>.</summary>
    public long RecordBytes { get; private set; }

    /// <summary>Distinct stored image bytes.</summary>
    public long ImageBytes { get; private set; }

    /// <summary>
    /// Null when a write adding these bytes fits; otherwise the detail that names the limit it would
    /// pass. A write that does not grow a total always fits, even above a lowered limit.
    /// </summary>
    public string? Refusal(long recordDelta, long imageDelta = 0)
    {
        if (recordDelta > 0 && RecordBytes + recordDelta > limits.MaxOrgRecordBytes)
        {
            return $"This platform's issuer and image records would exceed Limits:MaxOrgRecordBytes ({Bytes(limits.MaxOrgRecordBytes)} bytes).";
        }
        if (imageDelta > 0 && ImageBytes + imageDelta > limits.MaxOrgImageBytes)
        {
            return $"This platform's stored image bytes would exceed Limits:MaxOrgImageBytes ({Bytes(limits.MaxOrgImageBytes)} bytes).";
        }
        return null;
    }

    public void AddRecordBytes(long delta) => RecordBytes += delta;

    public void AddImageBytes(long delta) => ImageBytes += delta;

    private static string Bytes(long value) => value.ToString(CultureInfo.InvariantCulture);
}
