using System.Globalization;
using SkiaSharp;

namespace Credentials.Bench;

/// <summary>
/// Renders a <see cref="Timeline"/> to PNG: answers per second above, p50 and p99 latency (log
/// scale) below, both over time, with vertical markers for events (ready, warm window, a kill).
/// </summary>
public static class LatencyPlot
{
    private const int Width = 1200, Height = 760, Left = 90, Right = 30, Top = 60, Gap = 60, Bottom = 60;
    private static readonly SKColor Throughput = new(0x1f, 0x6f, 0xb4), P50 = new(0x2a, 0x9d, 0x3f), P99 = new(0xd6, 0x27, 0x28), Error = new(0xff, 0x7f, 0x0e);

    public static void Render(string path, string title, IReadOnlyList<TimelineInterval> intervals, double step,
        IReadOnlyList<(double Seconds, string Label)> markers)
    {
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var typeface = LoadTypeface();
        using var font = new SKFont(typeface, 15);
        using var small = new SKFont(typeface, 13);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawText(title, Left, 30, SKTextAlign.Left, font, ink);

        var x0 = intervals.Count == 0 ? 0 : intervals[0].StartSeconds;
        var x1 = intervals.Count == 0 ? 1 : intervals[^1].StartSeconds + step;
        var panelHeight = (Height - Top - Gap - Bottom) / 2f;
        var upper = new SKRect(Left, Top, Width - Right, Top + panelHeight);
        var lower = new SKRect(Left, upper.Bottom + Gap, Width - Right, upper.Bottom + Gap + panelHeight);
        float X(double s) => (float)(upper.Left + (s - x0) / (x1 - x0) * upper.Width);

        // Upper panel: answers per second, linear from 0; errors per second in orange.
        var maxRate = Math.Max(1, intervals.Max(i => i.Completed / step));
        var rateTop = NiceCeiling(maxRate);
        float YRate(double r) => (float)(upper.Bottom - r / rateTop * upper.Height);
        Frame(canvas, upper, small, ink, "answers/s", Enumerable.Range(0, 5).Select(k => rateTop * k / 4)
            .Select(v => ((double)YRate(v), v.ToString("N0", CultureInfo.InvariantCulture))));
        Line(canvas, intervals.Select(i => (X(i.StartSeconds + step / 2), YRate(i.Completed / step))), Throughput);
        if (intervals.Any(i => i.Errors > 0)) Line(canvas, intervals.Select(i => (X(i.StartSeconds + step / 2), YRate(i.Errors / step))), Error);

        // Lower panel: latency on a log scale, 0.1 ms to the next power of ten above the worst p99.
        var worst = intervals.Where(i => !double.IsNaN(i.P99Ms)).Select(i => i.P99Ms).DefaultIfEmpty(1).Max();
        var decadeLow = -1;
        var decadeHigh = Math.Max(decadeLow + 2, (int)Math.Ceiling(Math.Log10(Math.Max(worst, 1))));
        float YLat(double ms) => (float)(lower.Bottom - (Math.Log10(Math.Max(ms, 0.1)) - decadeLow) / (decadeHigh - decadeLow) * lower.Height);
        Frame(canvas, lower, small, ink, "latency ms (log)", Enumerable.Range(decadeLow, decadeHigh - decadeLow + 1)
            .Select(d => ((double)YLat(Math.Pow(10, d)), Math.Pow(10, d).ToString("0.###", CultureInfo.InvariantCulture))));
        Line(canvas, intervals.Where(i => i.Completed > 0).Select(i => (X(i.StartSeconds + step / 2), YLat(i.P50Ms))), P50);
        Line(canvas, intervals.Where(i => i.Completed > 0).Select(i => (X(i.StartSeconds + step / 2), YLat(i.P99Ms))), P99);

        // Time axis under both panels.
        var tick = NiceCeiling((x1 - x0) / 12);
        for (var s = Math.Ceiling(x0 / tick) * tick; s <= x1 + 1e-9; s += tick)
        {
            var label = s.ToString("0.#", CultureInfo.InvariantCulture);
            canvas.DrawText(label, X(s) - small.MeasureText(label) / 2, lower.Bottom + 18, SKTextAlign.Left, small, ink);
            using var grid = new SKPaint { Color = new SKColor(0xe0, 0xe0, 0xe0), StrokeWidth = 1 };
            canvas.DrawLine(X(s), upper.Top, X(s), upper.Bottom, grid);
            canvas.DrawLine(X(s), lower.Top, X(s), lower.Bottom, grid);
        }
        canvas.DrawText("seconds", lower.MidX - 25, lower.Bottom + 40, SKTextAlign.Left, small, ink);

        using var markerPaint = new SKPaint { Color = new SKColor(0x55, 0x55, 0x55), StrokeWidth = 1.5f, IsAntialias = true, PathEffect = SKPathEffect.CreateDash([6, 4], 0) };
        foreach (var (seconds, label) in markers)
        {
            canvas.DrawLine(X(seconds), upper.Top, X(seconds), lower.Bottom, markerPaint);
            canvas.DrawText(label, X(seconds) + 4, upper.Top + 14, SKTextAlign.Left, small, ink);
        }

        // Legend.
        var legendX = Width - Right - 330f;
        const float legendY = 46;
        foreach (var (color, name, index) in new[] { (Throughput, "answers/s", 0), (Error, "errors/s", 1), (P50, "p50", 2), (P99, "p99", 3) })
        {
            using var swatch = new SKPaint { Color = color, StrokeWidth = 3 };
            var lx = legendX + index * 85;
            canvas.DrawLine(lx, legendY - 5, lx + 20, legendY - 5, swatch);
            canvas.DrawText(name, lx + 24, legendY, SKTextAlign.Left, small, ink);
        }

        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    private static void Frame(SKCanvas canvas, SKRect area, SKFont font, SKPaint ink, string axis, IEnumerable<(double Y, string Label)> ticks)
    {
        using var border = new SKPaint { Color = SKColors.Gray, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        using var grid = new SKPaint { Color = new SKColor(0xe0, 0xe0, 0xe0), StrokeWidth = 1 };
        foreach (var (y, label) in ticks)
        {
            canvas.DrawLine(area.Left, (float)y, area.Right, (float)y, grid);
            canvas.DrawText(label, area.Left - 8 - font.MeasureText(label), (float)y + 4, SKTextAlign.Left, font, ink);
        }
        canvas.DrawRect(area, border);
        canvas.DrawText(axis, area.Left, area.Top - 6, SKTextAlign.Left, font, ink);
    }

    private static void Line(SKCanvas canvas, IEnumerable<(float X, float Y)> points, SKColor color)
    {
        using var paint = new SKPaint { Color = color, Style = SKPaintStyle.Stroke, StrokeWidth = 2, IsAntialias = true };
        canvas.DrawPoints(SKPointMode.Polygon, [.. points.Select(p => new SKPoint(p.X, p.Y))], paint);
    }

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="value"/>.</summary>
    private static double NiceCeiling(double value)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        return new[] { 1, 2, 5, 10 }.Select(m => m * power).First(v => v >= value - 1e-9);
    }

    /// <summary>The bundled NoDependencies build has no fontconfig: load a font file the system has.</summary>
    private static SKTypeface LoadTypeface()
    {
        string[] candidates = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf"];
        foreach (var file in candidates)
        {
            if (File.Exists(file) && SKTypeface.FromFile(file) is { } typeface) return typeface;
        }
        return SKTypeface.Default;
    }
}
