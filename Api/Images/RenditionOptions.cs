using System.ComponentModel.DataAnnotations;

namespace Credentials.Api.Images;

/// <summary>Section <c>Renditions</c>: the time and memory budget of making one rendition (C2, ADR 0013).</summary>
public sealed class RenditionOptions
{
    /// <summary>Wall-clock budget of one render; past it the source is remembered as not renderable.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00")]
    public TimeSpan RenderTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Renders running at once on this node; each holds at most <see cref="MaxDecodePixels"/> × 4 bytes of pixels.</summary>
    [Range(1, 64)]
    public int MaxConcurrentRenders { get; set; } = 2;

    /// <summary>Most pixels a raster is decoded to (JPEG and WebP decode straight to a smaller scale when they can).</summary>
    [Range(1, 1_000_000_000)]
    public long MaxDecodePixels { get; set; } = 40_000_000;

    /// <summary>Most elements of an SVG handed to the renderer.</summary>
    [Range(1, 2_000_000)]
    public int MaxSvgElements { get; set; } = 100_000;

    /// <summary>Most elements an SVG draws once every <c>use</c> is expanded (a chain of uses multiplies).</summary>
    [Range(1, 100_000_000)]
    public long MaxSvgDrawnElements { get; set; } = 250_000;

    /// <summary>Most drawing operations of an SVG's recorded picture.</summary>
    [Range(1, 100_000_000)]
    public int MaxSvgOperations { get; set; } = 500_000;
}
