using System.Diagnostics.Metrics;
using System.Xml;
using Microsoft.Extensions.Options;
using SkiaSharp;
using Svg;
using Svg.Model;
using Svg.Skia;

namespace Credentials.Api.Images;

/// <summary>A finished render: PNG bytes and their size, or why the source cannot be rendered.</summary>
public sealed record RenderResult(byte[]? Png, int Width, int Height, string? Failure)
{
    public static RenderResult Failed(string reason) => new(null, 0, 0, reason);
}

/// <summary>All render slots stayed busy past the budget: try again later (nothing is remembered).</summary>
public sealed class RenderersBusyException() : Exception("Every rendition renderer is busy.");

/// <summary>
/// Makes PNG renditions (C2). Rasters are decoded (straight to a smaller scale where the codec can)
/// and reduced by halving then one cubic step, which keeps fine detail without aliasing; SVGs are
/// counted, loaded by Svg.Skia with every external resource refused, recorded to a picture and
/// drawn at the size. Each render runs on its own thread under <see cref="RenditionOptions.RenderTimeout"/>;
/// the slot it holds is released only when the thread ends, so renders past their budget cannot
/// pile up beyond <see cref="RenditionOptions.MaxConcurrentRenders"/>.
/// </summary>
public sealed class RenditionRenderer : IDisposable
{
    public const string MeterName = "Credentials.Orleans.Renditions";

    private static readonly SKSamplingOptions Cubic = new(SKCubicResampler.Mitchell);
    private static readonly SKSamplingOptions Halving = new(SKFilterMode.Linear, SKMipmapMode.None);

    private readonly RenditionOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _rendered;
    private long _renders;

    static RenditionRenderer()
    {
        // Second line behind the per-document policy below: this process never resolves SVG references.
        SvgDocument.ResolveExternalImages = ExternalType.None;
        SvgDocument.ResolveExternalElements = ExternalType.None;
        SvgDocument.ResolveExternalXmlEntites = ExternalType.None;
    }

    public RenditionRenderer(IOptions<RenditionOptions> options)
    {
        _options = options.Value;
        _warmUp = new Lazy<Task>(() => Task.Factory.StartNew(WarmUp, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        _slots = new SemaphoreSlim(_options.MaxConcurrentRenders);
        _rendered = _meter.CreateCounter<long>("credentials.renditions.rendered", description: "Renditions rendered (not served from the store).");
    }

    /// <summary>The first render of a process loads and compiles Skia and Svg.Skia: done once, outside any budget.</summary>
    private readonly Lazy<Task> _warmUp;

    private void WarmUp()
    {
        try
        {
            using var bitmap = new SKBitmap(2, 2);
            using var image = SKImage.FromBitmap(bitmap);
            using var png = image.Encode(SKEncodedImageFormat.Png, 100);
            RenderRaster(png.ToArray(), 1, CancellationToken.None);
            RenderSvg("""<!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 2"><rect width="2" height="2"/></svg>"""u8.ToArray(), 1, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A real render reports what is wrong.
        }
    }

    /// <summary>Renders started by this node since it started; a stored rendition served adds nothing.</summary>
    public long Renders => Interlocked.Read(ref _renders);

    /// <summary>
    /// Renders <paramref name="source"/> (of the upload's <paramref name="extension"/>) so its longer
    /// side is <paramref name="size"/> (a smaller raster keeps its size). A source past the bounds is
    /// a <see cref="RenderResult.Failure"/>; all slots busy past the budget is <see cref="RenderersBusyException"/>.
    /// </summary>
    public async Task<RenderResult> RenderAsync(byte[] source, string extension, int size)
    {
        // A cold process must not remember an ordinary image as too slow.
        await _warmUp.Value;
        var budget = _options.RenderTimeout;
        if (!await _slots.WaitAsync(budget)) throw new RenderersBusyException();
        Interlocked.Increment(ref _renders);
        _rendered.Add(1, new KeyValuePair<string, object?>("format", extension));
        // Owned by the render thread, which may outlive the wait below: it disposes it and frees the slot.
        var deadline = new CancellationTokenSource(budget);
        var render = Task.Factory.StartNew(() =>
        {
            try
            {
                return extension == "svg" ? RenderSvg(source, size, deadline.Token) : RenderRaster(source, size, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                return TooSlow(budget);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return RenderResult.Failed($"The image cannot be rendered ({ex.GetType().Name}).");
            }
            finally
            {
                deadline.Dispose();
                _slots.Release();
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            return await render.WaitAsync(budget);
        }
        catch (TimeoutException)
        {
            return TooSlow(budget);
        }
    }

    private static RenderResult TooSlow(TimeSpan budget) =>
        RenderResult.Failed(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Rendering took longer than {budget.TotalSeconds:0.###} s."));

    private RenderResult RenderRaster(byte[] source, int size, CancellationToken deadline)
    {
        using var data = SKData.CreateCopy(source);
        using var codec = SKCodec.Create(data);
        if (codec is null) return RenderResult.Failed("The image cannot be decoded.");
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        // A photo's EXIF orientation says how it is shown: the rendition is fitted as shown, so the
        // pixels are reduced to the transposed target when the orientation turns them a quarter.
        var origin = codec.EncodedOrigin;
        var turned = TurnsQuarter(origin);
        var (shownWidth, shownHeight) = Fit(turned ? height : width, turned ? width : height, size, upscale: false);
        var (targetWidth, targetHeight) = turned ? (shownHeight, shownWidth) : (shownWidth, shownHeight);

        // JPEG and WebP decode straight to a smaller scale; never below the target, or detail is lost.
        var scaled = codec.GetScaledDimensions((float)targetWidth / width);
        if (scaled.Width < targetWidth || scaled.Height < targetHeight) scaled = new SKSizeI(width, height);
        if ((long)scaled.Width * scaled.Height > _options.MaxDecodePixels) return RenderResult.Failed("The image has too many pixels to decode.");

        var info = new SKImageInfo(scaled.Width, scaled.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput)) return RenderResult.Failed($"The image cannot be decoded ({result}).");
        deadline.ThrowIfCancellationRequested();

        using var image = SKImage.FromBitmap(decoded);
        return Reduce(image, targetWidth, targetHeight, origin, deadline);
    }

    private static bool TurnsQuarter(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>The image as its EXIF orientation shows it (the same image for the default, top-left).</summary>
    private static SKImage Oriented(SKImage image, SKEncodedOrigin origin)
    {
        float w = image.Width, h = image.Height;
        // Where an encoded pixel (x, y) is shown: X = ScaleX·x + SkewX·y + TransX, Y = SkewY·x + ScaleY·y + TransY.
        SKMatrix? shown = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),     // mirrored
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1), // turned half
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),   // flipped
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),       // transposed
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),     // a quarter clockwise
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1), // transversed
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),   // a quarter anticlockwise
            _ => null,
        };
        if (shown is not { } matrix) return image;
        var turned = TurnsQuarter(origin);
        var bitmap = new SKBitmap(new SKImageInfo(turned ? image.Height : image.Width, turned ? image.Width : image.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Transparent);
            canvas.SetMatrix(matrix);
            canvas.DrawImage(image, 0, 0, SKSamplingOptions.Default);
        }
        bitmap.SetImmutable();
        return SKImage.FromBitmap(bitmap);
    }

    /// <summary>Halves while the image is over twice the target (each step averages 2×2 pixels), then one cubic step.</summary>
    private static RenderResult Reduce(SKImage image, int targetWidth, int targetHeight, SKEncodedOrigin origin, CancellationToken deadline)
    {
        var current = image;
        try
        {
            while (current.Width / 2 >= targetWidth && current.Height / 2 >= targetHeight && (current.Width > targetWidth || current.Height > targetHeight))
            {
                var half = Scale(current, Math.Max(1, current.Width / 2), Math.Max(1, current.Height / 2), Halving);
                if (!ReferenceEquals(current, image)) current.Dispose();
                current = half;
                deadline.ThrowIfCancellationRequested();
            }
            using var final = current.Width == targetWidth && current.Height == targetHeight
                ? null
                : Scale(current, targetWidth, targetHeight, Cubic);
            var reduced = final ?? current;
            var shown = Oriented(reduced, origin);
            try
            {
                return Encode(shown);
            }
            finally
            {
                if (!ReferenceEquals(shown, reduced)) shown.Dispose();
            }
        }
        finally
        {
            if (!ReferenceEquals(current, image)) current.Dispose();
        }
    }

    private static SKImage Scale(SKImage image, int width, int height, SKSamplingOptions sampling)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var pixmap = bitmap.PeekPixels())
        {
            if (!image.ScalePixels(pixmap, sampling)) throw new InvalidOperationException("Scaling failed.");
        }
        bitmap.SetImmutable();
        return SKImage.FromBitmap(bitmap);
    }

    private RenderResult RenderSvg(byte[] source, int size, CancellationToken deadline)
    {
        if (SvgShape.Refusal(source, _options) is { } refusal) return RenderResult.Failed(refusal);
        deadline.ThrowIfCancellationRequested();

        using var svg = new SKSvg();
        var parameters = new SvgParameters(null, null, null, new SvgDocumentLoadOptions
        {
            ProcessingMode = SvgProcessingMode.SecureStatic,
            // data: rasters (which uploads may embed) and same-document references only.
            ExternalResources = SvgExternalResourcePolicy.SameDocumentAndDataOnly,
        });
        using var stream = new MemoryStream(SvgShape.WithoutDocumentType(source), writable: false);
        var picture = svg.Load(stream, parameters);
        if (picture is null) return RenderResult.Failed("The SVG cannot be loaded.");
        deadline.ThrowIfCancellationRequested();
        if (picture.ApproximateOperationCount > _options.MaxSvgOperations) return RenderResult.Failed("The SVG draws too many shapes.");

        var bounds = picture.CullRect;
        if (!(bounds.Width > 0 && bounds.Height > 0 && float.IsFinite(bounds.Width) && float.IsFinite(bounds.Height)))
            return RenderResult.Failed("The SVG has no size to draw.");
        var (width, height) = Fit(bounds.Width, bounds.Height, size, upscale: true);
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.Transparent);
        canvas.Scale(width / bounds.Width, height / bounds.Height);
        canvas.Translate(-bounds.Left, -bounds.Top);
        canvas.DrawPicture(picture);
        canvas.Flush();
        deadline.ThrowIfCancellationRequested();
        using var image = surface.Snapshot();
        return Encode(image);
    }

    /// <summary>The size whose longer side is <paramref name="size"/>, aspect kept, each side at least 1.</summary>
    public static (int Width, int Height) Fit(double width, double height, int size, bool upscale)
    {
        var longer = Math.Max(width, height);
        if (!upscale && longer <= size) return ((int)width, (int)height);
        var scale = size / longer;
        return (Math.Clamp((int)Math.Round(width * scale), 1, size), Math.Clamp((int)Math.Round(height * scale), 1, size));
    }

    private static RenderResult Encode(SKImage image)
    {
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        if (data is null) return RenderResult.Failed("The rendition cannot be encoded.");
        return new RenderResult(data.ToArray(), image.Width, image.Height, null);
    }

    public void Dispose()
    {
        _meter.Dispose();
    }
}
