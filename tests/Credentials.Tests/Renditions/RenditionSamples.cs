using System.Text;
using SkiaSharp;

namespace Credentials.Tests.Renditions;

/// <summary>Sources for renditions: drawn here (JPEG, WebP, GIF) or read from docs/sample (logo.png, seal.svg).</summary>
public static class RenditionSamples
{
    public static string RepositoryFile(params string[] parts)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Credentials.Orleans.sln"))) directory = directory.Parent;
        return Path.Combine([directory?.FullName ?? throw new InvalidOperationException("Repository root not found."), .. parts]);
    }

    public static byte[] Logo() => File.ReadAllBytes(RepositoryFile("docs", "sample", "logo.png"));

    public static byte[] Seal() => File.ReadAllBytes(RepositoryFile("docs", "sample", "seal.svg"));

    /// <summary>A landscape: sky gradient, sun, hills; detail enough to show the quality of a downscale.</summary>
    public static byte[] Photo(int width = 480, int height = 320, SKEncodedImageFormat format = SKEncodedImageFormat.Jpeg)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        // Drawn at one scale (a wider image shows less sky), the bottom edge kept.
        var scale = width / 480f;
        canvas.Translate(0, height - 320 * scale);
        canvas.Scale(scale);
        using (var sky = new SKPaint { Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(0, 220), [new SKColor(0x2B, 0x5C, 0x8A), new SKColor(0xF6, 0xC1, 0x77)], SKShaderTileMode.Clamp) })
            canvas.DrawRect(0, 0, 480, 320, sky);
        using (var sun = new SKPaint { Color = new SKColor(0xFF, 0xE0, 0x8A), IsAntialias = true }) canvas.DrawCircle(360, 120, 44, sun);
        using (var far = new SKPaint { Color = new SKColor(0x3E, 0x6B, 0x48), IsAntialias = true })
        using (var hills = new SKPathBuilder())
        {
            hills.MoveTo(0, 230);
            for (var x = 0; x <= 480; x += 8) hills.LineTo(x, 220 - 30 * MathF.Sin(x / 60f));
            hills.LineTo(480, 320);
            hills.LineTo(0, 320);
            hills.Close();
            using var path = hills.Detach();
            canvas.DrawPath(path, far);
        }
        // Fine stripes: aliasing would show as moiré in a poor downscale.
        using (var stripe = new SKPaint { Color = new SKColor(0x2A, 0x4A, 0x30), StrokeWidth = 1, IsAntialias = true })
            for (var x = 0; x < 480; x += 3) canvas.DrawLine(x, 270, x + 10, 320, stripe);
        using var image = surface.Snapshot();
        using var data = image.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>
    /// A JPEG of <paramref name="width"/>×<paramref name="height"/> stored pixels, red on the left half
    /// and blue on the right, carrying an EXIF orientation (1–8) as a camera writes it: an APP1
    /// segment after the start of image with one TIFF entry (0x0112).
    /// </summary>
    public static byte[] HalvesWithOrientation(int width, int height, ushort orientation)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var red = new SKPaint { Color = SKColors.Red }) surface.Canvas.DrawRect(0, 0, width / 2f, height, red);
        using (var blue = new SKPaint { Color = SKColors.Blue }) surface.Canvas.DrawRect(width / 2f, 0, width / 2f, height, blue);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 95);
        var jpeg = data.ToArray();
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, // big-endian header, first directory at 8
            0, 1,                                    // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, (byte)(orientation >> 8), (byte)orientation, 0, 0, // Orientation, SHORT, 1
            0, 0, 0, 0,                              // no next directory
        ];
        var length = 2 + 6 + tiff.Length;
        byte[] app1 = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0, .. tiff];
        return [.. jpeg.AsSpan(0, 2), .. app1, .. jpeg.AsSpan(2)];
    }

    public static byte[] Banner() => Photo(600, 200, SKEncodedImageFormat.Webp);

    /// <summary>
    /// A GIF of 16 colours in diagonal bands. LZW with a clear code every 200 pixels keeps every
    /// code 9 bits wide, so the encoder stays a few lines (the file is larger than it could be).
    /// </summary>
    public static byte[] Bands(int width = 96, int height = 64)
    {
        var output = new List<byte>();
        output.AddRange("GIF89a"u8.ToArray());
        output.AddRange([(byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0xF7, 0, 0]);
        for (var i = 0; i < 256; i++)
        {
            var c = i % 16;
            output.AddRange([(byte)(40 + c * 13), (byte)(200 - c * 9), (byte)(90 + (c * 37) % 160)]);
        }
        output.AddRange([0x2C, 0, 0, 0, 0, (byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0, 8]);

        var codes = new List<int> { 256 };
        for (var i = 0; i < width * height; i++)
        {
            if (i > 0 && i % 200 == 0) codes.Add(256);
            var (x, y) = (i % width, i / width);
            codes.Add((x + y) / 6 % 16);
        }
        codes.Add(257);
        var packed = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var code in codes)
        {
            buffer |= code << bits;
            bits += 9;
            while (bits >= 8) { packed.Add((byte)buffer); buffer >>= 8; bits -= 8; }
        }
        if (bits > 0) packed.Add((byte)buffer);
        for (var i = 0; i < packed.Count; i += 255)
        {
            var n = Math.Min(255, packed.Count - i);
            output.Add((byte)n);
            output.AddRange(packed.GetRange(i, n));
        }
        output.Add(0);
        output.Add(0x3B);
        return [.. output];
    }

    public static byte[] Svg(string body, string attributes = """viewBox="0 0 100 50" """) =>
        Encoding.UTF8.GetBytes($"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" {attributes}>{body}</svg>""");

    /// <summary>
    /// Passes the upload check (nothing active, shallow) yet draws 10^8 shapes once its uses are
    /// expanded: each level uses the previous one ten times.
    /// </summary>
    public static byte[] UseChain()
    {
        var body = new StringBuilder("""<defs><rect id="l0" width="1" height="1"/>""");
        for (var level = 1; level <= 8; level++)
        {
            body.Append($"""<g id="l{level}">""");
            for (var i = 0; i < 10; i++) body.Append($"""<use href="#l{level - 1}" x="{i}"/>""");
            body.Append("</g>");
        }
        body.Append("""</defs><use href="#l8"/>""");
        return Svg(body.ToString());
    }

    /// <summary>Width and height from a PNG's IHDR.</summary>
    public static (int Width, int Height) PngSize(byte[] png)
    {
        Assert.Equal(Images.SampleImages.PngSignature, png[..8]);
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }
}
