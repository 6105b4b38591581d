namespace Credentials.Grains;

/// <summary>
/// A request that carries an Idempotency-Key (contract C3), as the org grain sees it:
/// <see cref="Scope"/> digests credential, path and key, <see cref="Fingerprint"/> the body.
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.idempotent-request.v1")]
public sealed record IdempotentRequest(
    [property: Id(0)] string Scope,
    [property: Id(1)] byte[] Fingerprint,
    [property: Id(2)] bool CreatesOrg = false);

/// <summary>What the org grain answers when a keyed request starts.</summary>
[GenerateSerializer, Alias("credentials.idempotent-start.v1")]
public enum IdempotentStart
{
    /// <summary>First time: run the request, then complete the claim with its answer.</summary>
    Run = 0,
    /// <summary>Seen before with the same body: send <see cref="IdempotentClaim.Answer"/> again.</summary>
    Replay = 1,
    /// <summary>The first request with this key is still running.</summary>
    InFlight = 2,
    /// <summary>The key was used with a different body.</summary>
    Mismatch = 3,
    /// <summary>The org does not exist: run the request without a key (it is answered 404 or 400, never kept).</summary>
    NotKept = 4,
    /// <summary>The org's record bytes are at their limit: the answer could not be kept.</summary>
    QuotaExceeded = 5,
}

[GenerateSerializer, Immutable, Alias("credentials.idempotent-claim.v1")]
public sealed record IdempotentClaim(
    [property: Id(0)] IdempotentStart Start,
    [property: Id(1)] Guid Lease = default,
    [property: Id(2)] StoredAnswer? Answer = null,
    [property: Id(3)] string? Detail = null);

/// <summary>An HTTP answer as kept for replay: status, the headers that matter (name, value, name, value, …) and body.</summary>
[GenerateSerializer, Immutable, Alias("credentials.stored-answer.v1")]
public sealed record StoredAnswer(
    [property: Id(0)] int Status,
    [property: Id(1)] string[] Headers,
    [property: Id(2)] byte[] Body);
