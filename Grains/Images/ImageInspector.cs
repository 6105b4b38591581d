using SkiaSharp;

namespace Credentials.Grains.Images;

/// <summary>Upload limits (B3); configurable under <c>Images</c>.</summary>
public sealed class ImageLimits
{
    public long MaxFileBytes { get; set; } = 10 * 1024 * 1024;
    public long MaxPixels { get; set; } = 40_000_000;
    public int MaxSide { get; set; } = 16_384;
}

/// <summary>What the bytes are, whatever the client said.</summary>
public sealed record ImageKind(string Extension, string ContentType, int Width, int Height);

/// <summary>Why an upload was refused, and whether as 415 (not an image we take) or 400 (a bad one).</summary>
public sealed record ImageRefusal(bool Unsupported, string Detail);

/// <summary>
/// Decides what an upload is from its bytes alone (PNG, JPEG, GIF, WebP or SVG) and checks it
/// against the limits. Raster dimensions come from SkiaSharp's codec, which reads the header
/// without decoding pixels, so a decompression bomb costs nothing to refuse.
/// </summary>
public static class ImageInspector
{
    public static (ImageKind? Kind, ImageRefusal? Refusal) Inspect(byte[] bytes, ImageLimits limits)
    {
        if (bytes.Length == 0) return (null, new ImageRefusal(false, "The image file is empty."));
        var raster = RasterFormat(bytes);
        if (raster is not null) return InspectRaster(bytes, raster.Value, limits);
        if (SvgInspector.LooksLikeXml(bytes)) return SvgInspector.Inspect(bytes);
        return (null, new ImageRefusal(true, "Only PNG, JPEG, GIF, WebP and SVG images are accepted; these bytes are none of them."));
    }

    /// <summary>The extension the stored bytes call for, from their first bytes alone; null for none we serve.</summary>
    public static string? ExtensionOf(ReadOnlySpan<byte> bytes) =>
        RasterFormat(bytes)?.Extension ?? (SvgInspector.LooksLikeXml(bytes) ? "svg" : null);

    private static (string Extension, string ContentType)? RasterFormat(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return ("png", "image/png");
        if (b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return ("jpg", "image/jpeg");
        if (b.StartsWith("GIF87a"u8) || b.StartsWith("GIF89a"u8)) return ("gif", "image/gif");
        if (b.Length >= 12 && b.StartsWith("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8)) return ("webp", "image/webp");
        return null;
    }

    private static (ImageKind?, ImageRefusal?) InspectRaster(byte[] bytes, (string Extension, string ContentType) format, ImageLimits limits)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null || codec.Info.Width <= 0 || codec.Info.Height <= 0)
        {
            return (null, new ImageRefusal(false, $"The file starts like a {format.Extension.ToUpperInvariant()} image but is not a readable one."));
        }
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width > limits.MaxSide || height > limits.MaxSide)
        {
            return (null, new ImageRefusal(false, $"The image is {width}×{height} pixels; each side may be at most {limits.MaxSide}."));
        }
        if ((long)width * height > limits.MaxPixels)
        {
            return (null, new ImageRefusal(false, $"The image is {width}×{height} pixels; at most {limits.MaxPixels} pixels are accepted."));
        }
        return (new ImageKind(format.Extension, format.ContentType, width, height), null);
    }

    public static string ContentTypeOf(string extension) => extension switch
    {
        "png" => "image/png",
        "jpg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
