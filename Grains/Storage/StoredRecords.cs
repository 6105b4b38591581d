namespace Credentials.Grains.Storage;

// The shapes the org grain's rows hold: chunks of items, the platform row and the token set.

/// <summary>
/// What one chunk row holds: up to a bounded number of items in creation order, and the
/// highest sequence number ever handed out in it. The tail chunk's high-water mark is the org's
/// counter, so ids are never reused, even after the newest item was deleted and the grain restarted.
/// </summary>
public sealed record Chunk<T>(long HighWater, ChunkItem<T>[] Items);

public sealed record ChunkItem<T>(long Seq, T Value);

/// <summary>The platform row: written once when the platform is created.</summary>
public sealed record PlatformRecord(string Key, string Name, DateTimeOffset Created);

/// <summary>The org's live API tokens: names, SHA-256 fingerprints and creation times, never secrets.</summary>
public sealed record TokenSet(StoredToken[] Tokens);

public sealed record StoredToken(string Name, byte[] Hash, DateTimeOffset Created);
