using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Credentials.Grains.Images;

/// <summary>Which renditions exist (contract C2) and where their bytes are kept.</summary>
public static class RenditionRules
{
    /// <summary>The longer side of each rendition, in pixels.</summary>
    public static readonly int[] Sizes = [64, 128, 256, 512];

    public static bool IsSize(int size) => Array.IndexOf(Sizes, size) >= 0;

    /// <summary>
    /// The blob key of a rendition: SHA-256 of its name, so it is found from the URL alone, never
    /// collides with an uploaded image's key (those are hashes of image bytes), and goes with the org.
    /// </summary>
    public static string KeyOf(string sourceSha256, int size)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"rendition/{sourceSha256}/{size}.png")), hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>The record's key within the org: one per source and size.</summary>
    public static string RecordKey(string sourceSha256, int size) => string.Create(CultureInfo.InvariantCulture, $"{sourceSha256}/{size}");

    public static string RecordKey(RenditionRecord rendition) => RecordKey(rendition.SourceSha256, rendition.Size);

    /// <summary>Bytes a record takes in a chunk (JSON of two hashes and a few numbers).</summary>
    public static int ChunkSize(RenditionRecord rendition) => 260;
}
