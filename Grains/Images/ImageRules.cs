using System.Text;
using Credentials.Grains.Issuers;

namespace Credentials.Grains.Images;

/// <summary>The contract's image-name rule (A2): trimmed; blank means the uploaded file's name.</summary>
public static class ImageRules
{
    public const int NameMax = 254;

    /// <summary>An image record's estimated size in memory, for bounding chunks (records are small and alike).</summary>
    public static int ChunkSize(ImageRecord image) => 160 + image.Name.Length * 2;

    public static (string? Name, string? Error) Name(string? requested, string? fileName, string extension)
    {
        var trimmed = requested?.Trim();
        if (!string.IsNullOrEmpty(trimmed))
        {
            if (IssuerRules.CodePoints(trimmed) > NameMax) return (null, $"Ensure this field has no more than {NameMax} characters.");
            if (IssuerRules.HasControlCharacter(trimmed)) return (null, "Control characters are not allowed.");
            return (trimmed, null);
        }
        var fromFile = FromFileName(fileName);
        return (fromFile.Length > 0 ? fromFile : "image." + extension, null);
    }

    /// <summary>The file's name without directories (either slash), control characters removed, cut to 254.</summary>
    public static string FromFileName(string? fileName)
    {
        if (string.IsNullOrEmpty(fileName)) return "";
        var slash = fileName.LastIndexOfAny(['/', '\\']);
        var name = fileName[(slash + 1)..];
        var builder = new StringBuilder(name.Length);
        var count = 0;
        foreach (var rune in name.EnumerateRunes())
        {
            if (Rune.IsControl(rune)) continue;
            if (count++ == NameMax) break;
            builder.Append(rune.ToString());
        }
        return builder.ToString().Trim();
    }
}
