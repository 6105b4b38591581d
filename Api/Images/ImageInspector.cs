using System.Buffers.Binary;
using System.ComponentModel.DataAnnotations;

namespace Credentials.Api.Images;

/// <summary>Upload limits (B3); configurable under <c>Images</c>.</summary>
public sealed class ImageLimits
{
    // Uploads are held in memory while checked: at most 1 GiB, whatever is configured.
    [Range(1d, 1024d * 1024 * 1024)]
    public long MaxFileBytes { get; set; } = 10 * 1024 * 1024;

    [Range(1d, 1_000_000_000d)]
    public long MaxPixels { get; set; } = 40_000_000;

    [Range(1, 65_535)]
    public int MaxSide { get; set; } = 16_384;

    /// <summary>
    /// Wall-clock budget for inspecting one upload (B6). Inspection is linear, so only a bug or an
    /// overloaded machine reaches it; the upload is then refused as too complex, never left running.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan InspectionTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>What the bytes are, whatever the client said.</summary>
public sealed record ImageKind(string Extension, string ContentType, int Width, int Height);

/// <summary>Why an upload was refused, and whether as 415 (not an image we take) or 400 (a bad one).</summary>
public sealed record ImageRefusal(bool Unsupported, string Detail);

/// <summary>
/// Decides what an upload is from its bytes alone (PNG, JPEG, GIF, WebP or SVG) and checks it
/// against the limits. Raster dimensions come from the format's own header, read here: a forward
/// walk over chunks, segments or blocks (each step moves on by at least one byte, so the walk is
/// linear in the file's size) that stops at the first frame header. Nothing is decompressed or
/// decoded, so neither a decompression bomb nor a pile of tiny metadata chunks costs more than
/// the file's length (B6). A decoder (for renditions) sees the bytes only later, under its own bounds.
/// </summary>
public static class ImageInspector
{
    public const string TooComplex = "The image is too complex to inspect.";

    /// <summary>
    /// What <paramref name="bytes"/> are, or why they are refused. Bounded by
    /// <see cref="ImageLimits.InspectionTimeout"/>: past it the upload is refused as too complex.
    /// When <paramref name="cancellation"/> (the request's) fires, throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static (ImageKind? Kind, ImageRefusal? Refusal) Inspect(byte[] bytes, ImageLimits limits, CancellationToken cancellation = default)
    {
        if (bytes.Length == 0) return (null, new ImageRefusal(false, "The image file is empty."));
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        // A timer cannot fire in zero time: a budget already spent is cancelled here and now.
        if (limits.InspectionTimeout <= TimeSpan.Zero) budget.Cancel();
        else budget.CancelAfter(limits.InspectionTimeout);
        try
        {
            var raster = RasterFormat(bytes);
            if (raster is not null) return InspectRaster(bytes, raster.Value, limits, budget.Token);
            if (SvgInspector.LooksLikeXml(bytes)) return SvgInspector.Inspect(bytes, budget.Token);
            return (null, new ImageRefusal(true, "Only PNG, JPEG, GIF, WebP and SVG images are accepted; these bytes are none of them."));
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return (null, new ImageRefusal(false, TooComplex));
        }
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

    private static (ImageKind?, ImageRefusal?) InspectRaster(byte[] bytes, (string Extension, string ContentType) format, ImageLimits limits, CancellationToken cancellation)
    {
        var size = format.Extension switch
        {
            "png" => PngSize(bytes, cancellation),
            "jpg" => JpegSize(bytes, cancellation),
            "gif" => GifSize(bytes, cancellation),
            _ => WebPSize(bytes, cancellation),
        };
        if (size is not { Width: > 0, Height: > 0 })
        {
            return (null, new ImageRefusal(false, $"The file starts like a {format.Extension.ToUpperInvariant()} image but is not a readable one."));
        }
        var (width, height) = size.Value;
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

    // ---- raster headers: each returns the first frame's size, or null when the structure is broken ----

    /// <summary>Steps between two looks at the cancellation token in a header walk.</summary>
    private const int CheckEvery = 4096;

    /// <summary>PNG: a valid IHDR first (length, CRC, sane depth and colour type), then chunks up to the first IDAT.</summary>
    private static (int Width, int Height)? PngSize(ReadOnlySpan<byte> b, CancellationToken cancellation)
    {
        if (b.Length < 33 || BinaryPrimitives.ReadUInt32BigEndian(b[8..]) != 13 || !b[12..16].SequenceEqual("IHDR"u8)) return null;
        if (Crc32(b[12..29]) != BinaryPrimitives.ReadUInt32BigEndian(b[29..])) return null;
        var (width, height) = (BinaryPrimitives.ReadInt32BigEndian(b[16..]), BinaryPrimitives.ReadInt32BigEndian(b[20..]));
        var (depth, colour) = (b[24], b[25]);
        var valid = colour switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => false,
        };
        if (!valid || b[26] != 0 || b[27] != 0 || b[28] > 1) return null;
        long at = 33;
        for (var steps = 0; at + 8 <= b.Length; steps++)
        {
            if (steps % CheckEvery == 0) cancellation.ThrowIfCancellationRequested();
            var length = BinaryPrimitives.ReadUInt32BigEndian(b[(int)at..]);
            if (length > int.MaxValue) return null;
            if (b.Slice((int)at + 4, 4).SequenceEqual("IDAT"u8)) return (width, height);
            if (b.Slice((int)at + 4, 4).SequenceEqual("IEND"u8)) return null;
            at += 12 + (long)length;
        }
        return null;
    }

    /// <summary>JPEG: marker segments from SOI to the first start-of-frame.</summary>
    private static (int Width, int Height)? JpegSize(ReadOnlySpan<byte> b, CancellationToken cancellation)
    {
        var at = 2;
        for (var steps = 0; at < b.Length; steps++)
        {
            if (steps % CheckEvery == 0) cancellation.ThrowIfCancellationRequested();
            if (b[at] != 0xFF) return null;
            // Any number of fill bytes may precede a marker.
            var marker = at + 1;
            while (marker < b.Length && b[marker] == 0xFF) marker++;
            if (marker >= b.Length) return null;
            var code = b[marker];
            at = marker + 1;
            if (code is 0x01 or (>= 0xD0 and <= 0xD7)) continue; // standalone markers
            if (code is 0x00 or 0xD8 or 0xD9 or 0xDA || at + 2 > b.Length) return null; // no frame before the scan, or cut off
            var length = BinaryPrimitives.ReadUInt16BigEndian(b[at..]);
            if (length < 2 || at + length > b.Length) return null;
            if (code is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
            {
                // Start of frame: length, precision, height, width, components.
                if (length < 8) return null;
                return (BinaryPrimitives.ReadUInt16BigEndian(b[(at + 5)..]), BinaryPrimitives.ReadUInt16BigEndian(b[(at + 3)..]));
            }
            at += length;
        }
        return null;
    }

    /// <summary>GIF: the logical screen's size, once a first image descriptor is found past the extension blocks.</summary>
    private static (int Width, int Height)? GifSize(ReadOnlySpan<byte> b, CancellationToken cancellation)
    {
        if (b.Length < 13) return null;
        var (width, height) = (BinaryPrimitives.ReadUInt16LittleEndian(b[6..]), BinaryPrimitives.ReadUInt16LittleEndian(b[8..]));
        var at = 13;
        if ((b[10] & 0x80) != 0) at += 3 << ((b[10] & 7) + 1);
        for (var steps = 0; at < b.Length; steps++)
        {
            if (steps % CheckEvery == 0) cancellation.ThrowIfCancellationRequested();
            switch (b[at])
            {
                case 0x2C:
                    // Image descriptor: position, size, flags.
                    return at + 10 <= b.Length ? (width, height) : null;
                case 0x21:
                    // Extension: label, then data sub-blocks until an empty one.
                    at += 2;
                    while (at < b.Length && b[at] != 0)
                    {
                        if (++steps % CheckEvery == 0) cancellation.ThrowIfCancellationRequested();
                        at += b[at] + 1;
                    }
                    at++;
                    break;
                default:
                    return null; // the trailer before any image, or not a block at all
            }
        }
        return null;
    }

    /// <summary>WebP: the VP8 or VP8L frame header, or the VP8X canvas once an image chunk follows it.</summary>
    private static (int Width, int Height)? WebPSize(ReadOnlySpan<byte> b, CancellationToken cancellation)
    {
        if (b.Length < 30) return null;
        var chunk = b[12..16];
        var data = b[20..];
        var length = BinaryPrimitives.ReadUInt32LittleEndian(b[16..]);
        if (length > data.Length) return null;
        if (chunk.SequenceEqual("VP8 "u8))
        {
            // Frame tag (a key frame), start code, then 14-bit width and height.
            if ((data[0] & 1) != 0 || !data[3..6].SequenceEqual((ReadOnlySpan<byte>)[0x9D, 0x01, 0x2A])) return null;
            return (BinaryPrimitives.ReadUInt16LittleEndian(data[6..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(data[8..]) & 0x3FFF);
        }
        if (chunk.SequenceEqual("VP8L"u8))
        {
            // Signature 0x2F, then width-1 and height-1 in 14 bits each.
            if (data[0] != 0x2F) return null;
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(data[1..]);
            return ((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
        }
        if (!chunk.SequenceEqual("VP8X"u8) || length < 10) return null;
        var size = (Width: 1 + (data[4] | data[5] << 8 | data[6] << 16), Height: 1 + (data[7] | data[8] << 8 | data[9] << 16));
        long at = 20 + length + (length & 1);
        for (var steps = 0; at + 8 <= b.Length; steps++)
        {
            if (steps % CheckEvery == 0) cancellation.ThrowIfCancellationRequested();
            var next = b.Slice((int)at, 4);
            if (next.SequenceEqual("VP8 "u8) || next.SequenceEqual("VP8L"u8) || next.SequenceEqual("ANMF"u8)) return size;
            var skip = BinaryPrimitives.ReadUInt32LittleEndian(b[((int)at + 4)..]);
            at += 8 + (long)skip + (skip & 1);
        }
        return null;
    }

    /// <summary>The CRC-32 of PNG chunks (reflected polynomial 0xEDB88320), for the one chunk it is checked on.</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var value in bytes)
        {
            crc ^= value;
            for (var bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
