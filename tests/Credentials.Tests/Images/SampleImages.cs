using System.Buffers.Binary;
using System.Text;
using SkiaSharp;

namespace Credentials.Tests.Images;

/// <summary>
/// Image bytes for tests: real PNG, JPEG and WebP encoded by SkiaSharp, a hand-made GIF, and
/// PNGs whose header claims any size (only the header is ever read, so they stay tiny).
/// </summary>
public static class SampleImages
{
    public static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>A real PNG; <paramref name="seed"/> picks the colour, so different seeds give different bytes.</summary>
    public static byte[] Png(int width = 4, int height = 3, int seed = 0) => Encode(SKEncodedImageFormat.Png, width, height, seed);

    public static byte[] Jpeg(int width = 4, int height = 3, int seed = 0) => Encode(SKEncodedImageFormat.Jpeg, width, height, seed);

    public static byte[] WebP(int width = 4, int height = 3, int seed = 0) => Encode(SKEncodedImageFormat.Webp, width, height, seed);

    /// <summary>The classic 1×1 GIF89a: header, logical screen, 2-colour table, one image, trailer.</summary>
    public static byte[] Gif() =>
    [
        .. "GIF89a"u8,
        0x01, 0x00, 0x01, 0x00, // 1×1 logical screen
        0x80, 0x00, 0x00,       // global colour table of 2 entries
        0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00,
        0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, // image descriptor
        0x02, 0x02, 0x44, 0x01, 0x00, // LZW data
        0x3B, // trailer
    ];

    /// <summary>A GIF89a whose logical screen and only image claim <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static byte[] GifClaiming(ushort width, ushort height)
    {
        var gif = Gif();
        BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(6), width);
        BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(8), height);
        BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(24), width);
        BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(26), height);
        return gif;
    }

    /// <summary>A real JPEG whose start-of-frame header is rewritten to claim <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static byte[] JpegClaiming(ushort width, ushort height)
    {
        var jpeg = Jpeg();
        for (var i = 2; i + 9 < jpeg.Length; i++)
        {
            // SOF0..SOF2: FF C0-C2, length, precision, height, width.
            if (jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC1 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 5), height);
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 7), width);
                return jpeg;
            }
        }
        throw new InvalidOperationException("No start-of-frame marker in the sample JPEG.");
    }

    /// <summary>A real lossy WebP whose VP8 frame header is rewritten to claim <paramref name="width"/>×<paramref name="height"/> (at most 16,383).</summary>
    public static byte[] WebPClaiming(int width, int height)
    {
        var webp = WebP();
        if (!webp.AsSpan(12, 4).SequenceEqual("VP8 "u8)) throw new InvalidOperationException("The sample WebP is not a simple lossy one.");
        // Chunk data at 20: 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height.
        if (!webp.AsSpan(23, 3).SequenceEqual((ReadOnlySpan<byte>)[0x9D, 0x01, 0x2A])) throw new InvalidOperationException("No VP8 key frame.");
        BinaryPrimitives.WriteUInt16LittleEndian(webp.AsSpan(26), (ushort)(width & 0x3FFF));
        BinaryPrimitives.WriteUInt16LittleEndian(webp.AsSpan(28), (ushort)(height & 0x3FFF));
        return webp;
    }

    /// <summary>A small, passive SVG.</summary>
    public static byte[] Svg(string body = """<rect width="10" height="10" fill="#c00"/>""", string attributes = "") =>
        Encoding.UTF8.GetBytes($"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"{attributes}>{body}</svg>""");

    /// <summary>
    /// A PNG whose IHDR claims <paramref name="width"/>×<paramref name="height"/> (with a correct
    /// CRC), followed by a tiny IDAT and IEND: a decoder that trusted it would allocate the lot.
    /// </summary>
    public static byte[] PngClaiming(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;  // bit depth
        ihdr[9] = 2;  // colour type: RGB
        ihdr[10] = 0; // compression
        ihdr[11] = 0; // filter
        ihdr[12] = 0; // no interlace
        // A zlib stream of one empty stored block: valid, and far too short for the claimed size.
        byte[] idat = [0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01];
        using var png = new MemoryStream();
        png.Write(PngSignature);
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", idat);
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>The PNG signature followed by bytes that are no PNG chunk at all.</summary>
    public static byte[] CorruptPng() => [.. PngSignature, .. "this is not a chunk, just some garbage text"u8];

    /// <summary>A real PNG cut off inside its IHDR chunk.</summary>
    public static byte[] TruncatedPng() => Png()[..20];

    /// <summary>A real PNG padded after its IEND to exactly <paramref name="length"/> bytes (readers stop at IEND).</summary>
    public static byte[] PngOfLength(int length)
    {
        var png = Png(seed: length);
        if (length < png.Length) throw new ArgumentOutOfRangeException(nameof(length));
        var padded = new byte[length];
        png.CopyTo(padded, 0);
        return padded;
    }

    /// <summary>The width and height an IHDR declares: what the service should measure.</summary>
    public static (int Width, int Height) PngHeaderSize(byte[] png) =>
        (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));

    private static byte[] Encode(SKEncodedImageFormat format, int width, int height, int seed)
    {
        using var bitmap = new SKBitmap(width, height);
        var colour = new SKColor((byte)(seed * 37), (byte)(seed * 101 >> 8), (byte)(seed * 13 + 7));
        bitmap.Erase(colour);
        bitmap.SetPixel(0, 0, new SKColor((byte)seed, (byte)(seed >> 8), (byte)(seed >> 16)));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 90) ?? throw new InvalidOperationException($"SkiaSharp cannot encode {format} here.");
        return data.ToArray();
    }

    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        var typed = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typed);
        data.CopyTo(typed, 4);
        stream.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        stream.Write(word);
    }

    /// <summary>The CRC-32 PNG uses (ISO 3309, reflected polynomial 0xEDB88320) over a chunk's type and data.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
