using Credentials.Api.Images;
using Credentials.Grains.Images;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace Credentials.Tests.Renditions;

/// <summary>
/// Writes docs/renditions-contact-sheet.png: every rendition of the sample images, one row per
/// source, one column per size, each on a checkerboard (so transparency shows) at its true pixels.
/// </summary>
public sealed class ContactSheetTests
{
    private const int Gap = 16;

    [Fact]
    public async Task The_contact_sheet_shows_every_rendition_of_the_samples()
    {
        (string Name, string Format, byte[] Bytes)[] samples =
        [
            ("logo.png 128x128", "png", RenditionSamples.Logo()),
            ("photo.jpg 480x320", "jpg", RenditionSamples.Photo()),
            ("bands.gif 96x64", "gif", RenditionSamples.Bands()),
            ("banner.webp 600x200", "webp", RenditionSamples.Banner()),
            ("seal.svg 240x160", "svg", RenditionSamples.Seal()),
        ];
        // The sheet shows quality, not bounds: a loaded test machine must not time it out.
        using var renderer = new RenditionRenderer(Options.Create(new RenditionOptions { RenderTimeout = TimeSpan.FromMinutes(2) }));
        var rows = new List<SKBitmap[]>();
        foreach (var (_, format, bytes) in samples)
        {
            var row = new List<SKBitmap>();
            foreach (var size in RenditionRules.Sizes)
            {
                var result = await renderer.RenderAsync(bytes, format, size);
                Assert.Null(result.Failure);
                row.Add(SKBitmap.Decode(result.Png));
            }
            rows.Add([.. row]);
        }

        var width = Gap + RenditionRules.Sizes.Sum(s => s + Gap);
        var height = Gap + rows.Sum(r => r.Max(b => b.Height) + Gap);
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(new SKColor(0xF4, 0xF4, 0xF4));
        var y = Gap;
        foreach (var row in rows)
        {
            var x = Gap;
            for (var i = 0; i < row.Length; i++)
            {
                Checkerboard(canvas, SKRect.Create(x, y, row[i].Width, row[i].Height));
                canvas.DrawBitmap(row[i], x, y, new SKSamplingOptions(SKFilterMode.Nearest), null);
                x += RenditionRules.Sizes[i] + Gap;
            }
            y += row.Max(b => b.Height) + Gap;
        }
        using var sheet = surface.Snapshot();
        using var png = sheet.Encode(SKEncodedImageFormat.Png, 100);
        var path = RenditionSamples.RepositoryFile("docs", "renditions-contact-sheet.png");
        await File.WriteAllBytesAsync(path, png.ToArray());

        Assert.Equal((width, height), RenditionSamples.PngSize(await File.ReadAllBytesAsync(path)));
        foreach (var row in rows) foreach (var bitmap in row) bitmap.Dispose();
    }

    private static void Checkerboard(SKCanvas canvas, SKRect area)
    {
        using var light = new SKPaint { Color = SKColors.White };
        using var dark = new SKPaint { Color = new SKColor(0xDD, 0xDD, 0xDD) };
        canvas.Save();
        canvas.ClipRect(area);
        for (var cy = area.Top; cy < area.Bottom; cy += 8)
            for (var cx = area.Left; cx < area.Right; cx += 8)
                canvas.DrawRect(cx, cy, 8, 8, ((int)((cx - area.Left) / 8) + (int)((cy - area.Top) / 8)) % 2 == 0 ? light : dark);
        canvas.Restore();
    }
}
