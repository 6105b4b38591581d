namespace Credentials.Grains.Idempotency;

/// <summary>
/// A kept key, as its chunk row stores it: the scope digest (credential, path, key), the body's
/// fingerprint, when it was kept (it expires 24 h later) and the answer to replay.
/// </summary>
public sealed record IdempotencyRecord(string Scope, byte[] Fingerprint, DateTimeOffset Created, StoredAnswer Answer);
