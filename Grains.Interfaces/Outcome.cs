namespace Credentials.Grains;

/// <summary>How an org grain answered a request; the API maps each to one HTTP status.</summary>
[GenerateSerializer, Alias("credentials.outcome-status.v1")]
public enum OutcomeStatus
{
    Ok = 0,
    Created = 1,
    /// <summary>The org (platform) does not exist.</summary>
    OrgNotFound = 2,
    /// <summary>The org exists; the item asked for does not.</summary>
    NotFound = 3,
    Invalid = 4,
    /// <summary>The blob an upload refers to is not in the store (or is being collected): put it again.</summary>
    BlobMissing = 5,
    /// <summary>The write would pass one of the org's byte limits (B6); <see cref="Outcome{T}.Detail"/> names it. Nothing was stored.</summary>
    QuotaExceeded = 6,
}

/// <summary>
/// The result of a write: a status, the value on success, the field errors when invalid, and a
/// human detail when the status needs one (a quota exceeded).
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.outcome.v1`1")]
public sealed record Outcome<T>(
    [property: Id(0)] OutcomeStatus Status,
    [property: Id(1)] T? Value = default,
    [property: Id(2)] IReadOnlyDictionary<string, string[]>? Errors = null,
    [property: Id(3)] string? Detail = null)
{
    public bool Succeeded => Status is OutcomeStatus.Ok or OutcomeStatus.Created;

    public static Outcome<T> Invalid(IReadOnlyDictionary<string, string[]> errors) => new(OutcomeStatus.Invalid, default, errors);
    public static Outcome<T> Invalid(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });
    public static Outcome<T> QuotaExceeded(string detail) => new(OutcomeStatus.QuotaExceeded, default, null, detail);
    public static readonly Outcome<T> OrgNotFound = new(OutcomeStatus.OrgNotFound);
    public static readonly Outcome<T> NotFound = new(OutcomeStatus.NotFound);
}
