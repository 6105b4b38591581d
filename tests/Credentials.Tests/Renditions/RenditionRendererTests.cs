using System.Net;
using System.Net.Sockets;
using System.Text;
using Credentials.Api.Images;
using Microsoft.Extensions.Options;

namespace Credentials.Tests.Renditions;

/// <summary>The renderer alone: sizes and aspect per format, no upscaling of small rasters, SVGs drawn without fetching anything, hostile SVGs bounded.</summary>
public sealed class RenditionRendererTests
{
    private static RenditionRenderer Renderer(Action<RenditionOptions>? configure = null)
    {
        var options = new RenditionOptions();
        configure?.Invoke(options);
        return new RenditionRenderer(Options.Create(options));
    }

    public static TheoryData<string, int, int> Rasters => new()
    {
        { "png", 300, 200 }, { "jpg", 480, 320 }, { "gif", 96, 64 }, { "webp", 600, 200 }, { "png", 200, 300 },
    };

    private static byte[] Source(string format, int width, int height) => format switch
    {
        "png" => Images.SampleImages.Png(width, height, seed: 3),
        "jpg" => RenditionSamples.Photo(width, height),
        "gif" => RenditionSamples.Bands(width, height),
        _ => RenditionSamples.Photo(width, height, SkiaSharp.SKEncodedImageFormat.Webp),
    };

    [Theory]
    [MemberData(nameof(Rasters))]
    public async Task A_raster_is_scaled_so_its_longer_side_is_the_size_keeping_its_aspect_and_never_enlarged(string format, int width, int height)
    {
        using var renderer = Renderer();
        var source = Source(format, width, height);
        foreach (var size in Credentials.Grains.Images.RenditionRules.Sizes)
        {
            var result = await renderer.RenderAsync(source, format, size);

            Assert.Null(result.Failure);
            var (w, h) = RenditionSamples.PngSize(result.Png!);
            Assert.Equal((result.Width, result.Height), (w, h));
            var longer = Math.Max(width, height);
            if (longer <= size)
            {
                Assert.Equal((width, height), (w, h));
                continue;
            }
            Assert.Equal(size, Math.Max(w, h));
            Assert.InRange((double)w / h, (double)width / height * 0.95, (double)width / height * 1.05);
        }
    }

    // Stored 200×100, red left and blue right; where the red half is shown, for each EXIF orientation.
    [Theory]
    [InlineData(1, false, "left")]
    [InlineData(2, false, "right")]
    [InlineData(3, false, "right")]
    [InlineData(4, false, "left")]
    [InlineData(5, true, "top")]
    [InlineData(6, true, "top")]
    [InlineData(7, true, "bottom")]
    [InlineData(8, true, "bottom")]
    public async Task A_photo_is_rendered_the_way_its_exif_orientation_shows_it(ushort orientation, bool turned, string red)
    {
        using var renderer = Renderer();
        var source = RenditionSamples.HalvesWithOrientation(200, 100, orientation);

        var result = await renderer.RenderAsync(source, "jpg", 64);

        Assert.Null(result.Failure);
        Assert.Equal(turned ? (32, 64) : (64, 32), RenditionSamples.PngSize(result.Png!));
        using var shown = SkiaSharp.SKBitmap.Decode(result.Png);
        var (redAt, blueAt) = red switch
        {
            "left" => ((8, 16), (56, 16)),
            "right" => ((56, 16), (8, 16)),
            "top" => ((16, 8), (16, 56)),
            _ => ((16, 56), (16, 8)),
        };
        AssertMostly(shown.GetPixel(redAt.Item1, redAt.Item2), SkiaSharp.SKColors.Red);
        AssertMostly(shown.GetPixel(blueAt.Item1, blueAt.Item2), SkiaSharp.SKColors.Blue);

        static void AssertMostly(SkiaSharp.SKColor actual, SkiaSharp.SKColor expected) =>
            Assert.True(Math.Abs(actual.Red - expected.Red) < 48 && Math.Abs(actual.Blue - expected.Blue) < 48, $"{actual} is not near {expected}");
    }

    [Fact]
    public async Task A_downscale_keeps_the_average_colour_of_fine_detail()
    {
        // One-pixel black and white columns average to grey; a point-sampling scaler would pick one of them.
        var stripes = new SkiaSharp.SKBitmap(512, 512);
        for (var y = 0; y < 512; y++)
            for (var x = 0; x < 512; x++) stripes.SetPixel(x, y, x % 2 == 0 ? SkiaSharp.SKColors.Black : SkiaSharp.SKColors.White);
        using var image = SkiaSharp.SKImage.FromBitmap(stripes);
        using var png = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        using var renderer = Renderer();

        var result = await renderer.RenderAsync(png.ToArray(), "png", 64);

        using var small = SkiaSharp.SKBitmap.Decode(result.Png);
        var pixel = small.GetPixel(32, 32);
        Assert.InRange((int)pixel.Red, 96, 160);
    }

    [Fact]
    public async Task An_svg_is_drawn_to_the_size_from_its_view_box_whatever_the_size_asked()
    {
        using var renderer = Renderer();
        var svg = RenditionSamples.Svg("""<rect width="100" height="50" fill="#1f4e79"/>""");

        foreach (var size in Credentials.Grains.Images.RenditionRules.Sizes)
        {
            var result = await renderer.RenderAsync(svg, "svg", size);
            Assert.Equal((size, size / 2), RenditionSamples.PngSize(result.Png!));
        }
        using var drawn = SkiaSharp.SKBitmap.Decode((await renderer.RenderAsync(svg, "svg", 64)).Png);
        Assert.Equal(new SkiaSharp.SKColor(0x1f, 0x4e, 0x79), drawn.GetPixel(32, 16));
    }

    [Fact]
    public async Task An_svg_referring_to_outside_resources_fetches_nothing()
    {
        // A listener that never accepts: a connection to it would wait in its backlog.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var at = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        var secret = Path.Combine(Path.GetTempPath(), $"rendition-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(secret, Images.SampleImages.Png(10, 10));
        string Document(string at, string file) => $"""
            <?xml version="1.0"?>
            <!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "{at}/svg11.dtd">
            <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 100">
              <style>@import url("{at}/style.css"); circle {"{"} fill: url("{at}/paint.svg#p"); {"}"}</style>
              <rect width="100" height="100" fill="#eee"/>
              <image href="{at}/image.png" width="50" height="50"/>
              <image xlink:href="{at}/old.png" x="50" width="50" height="50"/>
              <image href="{file}" y="50" width="50" height="50"/>
              <use href="{at}/shapes.svg#shape"/>
              <circle r="10" cx="75" cy="75" filter="url({at}/filters.svg#blur)"/>
            </svg>
            """;
        using var renderer = Renderer();

        var result = await renderer.RenderAsync(Encoding.UTF8.GetBytes(Document(at, new Uri(secret).AbsoluteUri)), "svg", 64);

        Assert.False(listener.Pending(), "The renderer connected to the listener.");
        Assert.Null(result.Failure);
        // Drawn exactly as if every reference pointed nowhere: nothing fetched, no local file read.
        var nowhere = await renderer.RenderAsync(Encoding.UTF8.GetBytes(Document("#missing", "#missing")), "svg", 64);
        Assert.Equal(nowhere.Png, result.Png);
        File.Delete(secret);
    }

    [Fact]
    public async Task An_svg_draws_the_rasters_it_embeds_as_data_uris()
    {
        var embedded = Convert.ToBase64String(Images.SampleImages.Png(10, 10, seed: 0));
        var svg = RenditionSamples.Svg($"""<image href="data:image/png;base64,{embedded}" width="100" height="100" preserveAspectRatio="none"/>""", """viewBox="0 0 100 100" """);
        using var renderer = Renderer();

        var result = await renderer.RenderAsync(svg, "svg", 64);

        using var drawn = SkiaSharp.SKBitmap.Decode(result.Png);
        Assert.Equal(255, drawn.GetPixel(32, 32).Alpha);
    }

    [Fact]
    public async Task A_huge_view_box_is_drawn_at_the_size_asked()
    {
        using var renderer = Renderer();
        var svg = RenditionSamples.Svg("""<rect width="1e9" height="5e8" fill="#c00" stroke="#000" stroke-width="1e8"/>""", """viewBox="0 0 1000000000 500000000" """);

        var result = await renderer.RenderAsync(svg, "svg", 512);

        Assert.Equal((512, 256), RenditionSamples.PngSize(result.Png!));
    }

    [Fact]
    public async Task Deep_nesting_that_the_upload_check_accepts_is_drawn()
    {
        using var renderer = Renderer();
        var depth = SvgInspector.MaxDepth - 2;
        var body = string.Concat(Enumerable.Repeat("<g>", depth)) + """<rect width="100" height="50" fill="#0a0"/>""" + string.Concat(Enumerable.Repeat("</g>", depth));

        var result = await renderer.RenderAsync(RenditionSamples.Svg(body), "svg", 128);

        Assert.Equal((128, 64), RenditionSamples.PngSize(result.Png!));
    }

    [Fact]
    public async Task An_enormous_count_of_strokes_is_refused_before_it_is_loaded()
    {
        using var renderer = Renderer();
        var strokes = new StringBuilder();
        for (var i = 0; i < 120_000; i++) strokes.Append("""<line x1="0" y1="0" x2="100" y2="50" stroke="#000" stroke-width="50"/>""");

        var result = await renderer.RenderAsync(RenditionSamples.Svg(strokes.ToString()), "svg", 512);

        Assert.Null(result.Png);
        Assert.Contains("elements", result.Failure);
    }

    [Fact]
    public async Task A_chain_of_uses_that_multiplies_is_refused_from_its_expanded_size()
    {
        // 10^8 shapes from a few dozen elements.
        using var renderer = Renderer();

        var result = await renderer.RenderAsync(RenditionSamples.UseChain(), "svg", 512);

        Assert.Null(result.Png);
        Assert.Contains("expanded", result.Failure);
    }

    [Fact]
    public async Task A_use_of_an_element_inside_itself_is_refused()
    {
        using var renderer = Renderer();
        var svg = RenditionSamples.Svg("""<g id="loop"><rect width="5" height="5"/><use href="#loop" x="5"/></g>""");

        var result = await renderer.RenderAsync(svg, "svg", 64);

        Assert.Null(result.Png);
        Assert.Contains("inside itself", result.Failure);
    }

    [Fact]
    public async Task An_embedded_raster_of_too_many_pixels_is_refused_before_it_is_decoded()
    {
        var claim = Convert.ToBase64String(Images.SampleImages.PngClaiming(16_000, 16_000));
        var svg = RenditionSamples.Svg($"""<image href="data:image/png;base64,{claim}" width="100" height="50"/>""");
        using var renderer = Renderer(o => o.MaxDecodePixels = 10_000_000);

        var result = await renderer.RenderAsync(svg, "svg", 64);

        Assert.Null(result.Png);
        Assert.Contains("pixels", result.Failure);
    }

    [Fact]
    public async Task A_raster_of_more_pixels_than_the_decode_bound_is_refused()
    {
        using var renderer = Renderer(o => o.MaxDecodePixels = 1000);

        var result = await renderer.RenderAsync(Images.SampleImages.Png(100, 100), "png", 64);

        Assert.Null(result.Png);
        Assert.Contains("pixels", result.Failure);
    }

    [Fact]
    public async Task A_render_past_its_time_budget_is_a_failure_and_frees_its_slot_when_it_ends()
    {
        // Allowed past the element bounds, 100,000 wide strokes take far longer than a millisecond.
        var strokes = new StringBuilder();
        for (var i = 0; i < 100_000; i++) strokes.Append("""<path d="M0 0 L100 50 L0 50 Z" stroke="#000" stroke-width="40" stroke-dasharray="0.5 0.5"/>""");
        using var renderer = Renderer(o => { o.RenderTimeout = TimeSpan.FromMilliseconds(1); o.MaxConcurrentRenders = 1; o.MaxSvgElements = 200_000; });

        var result = await renderer.RenderAsync(RenditionSamples.Svg(strokes.ToString()), "svg", 512);

        Assert.Null(result.Png);
        Assert.Contains("longer than", result.Failure);
    }

    [Fact]
    public async Task Bytes_that_are_not_an_image_are_a_failure_not_an_exception()
    {
        using var renderer = Renderer();

        Assert.NotNull((await renderer.RenderAsync(Images.SampleImages.CorruptPng(), "png", 64)).Failure);
        Assert.NotNull((await renderer.RenderAsync("<svg"u8.ToArray(), "svg", 64)).Failure);
    }
}
