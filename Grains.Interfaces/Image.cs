namespace Credentials.Grains;

/// <summary>
/// An uploaded image as the org's index keeps it: never its bytes, which live in the blob store
/// under the org and their SHA-256.
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.image.v1")]
public sealed record ImageRecord(
    [property: Id(0)] long Id,
    [property: Id(1)] string Name,
    [property: Id(2)] string Sha256,
    [property: Id(3)] string Extension,
    [property: Id(4)] long Length,
    [property: Id(5)] int Width,
    [property: Id(6)] int Height,
    [property: Id(7)] DateTimeOffset Created);

/// <summary>
/// A small upload's bytes, handed to the org grain to be stored in the same commit as its record.
/// Immutable: a co-hosted call passes the array itself, never a copy.
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.image-bytes.v1")]
public sealed record ImageBytes([property: Id(0)] byte[] Content)
{
    /// <summary>Largest upload sent this way; larger bytes go to the blob store first (they would be a large grain message).</summary>
    public const int MaxInlineBytes = 64 * 1024;
}

/// <summary>An upload whose bytes are already in the blob store: what the index needs to record it.</summary>
[GenerateSerializer, Immutable, Alias("credentials.image-upload.v1")]
public sealed record ImageUpload(
    [property: Id(0)] string? Name,
    [property: Id(1)] string? FileName,
    [property: Id(2)] string Sha256,
    [property: Id(3)] string Extension,
    [property: Id(4)] long Length,
    [property: Id(5)] int Width,
    [property: Id(6)] int Height);

/// <summary>
/// One grain reply of an image search, bounded in bytes: when the matches asked for did not all fit,
/// <see cref="ContinueAfter"/> is the id of the last one and the next call goes on after it.
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.image-page.v1")]
public sealed record ImagePage(
    [property: Id(0)] IReadOnlyList<ImageRecord> Items,
    [property: Id(1)] long? ContinueAfter = null);
