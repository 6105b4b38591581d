using Credentials.Api.Images;
using System.Text;
using Credentials.Grains.Images;

namespace Credentials.Tests.Images;

/// <summary>
/// What the inspector makes of bytes, without HTTP: the type from the bytes alone, dimensions from
/// the header, and the limits on both sides of each boundary.
/// </summary>
public sealed class ImageInspectorTests
{
    private static readonly ImageLimits Defaults = new();

    public static TheoryData<string, string, string> Formats => new()
    {
        { "png", "png", "image/png" },
        { "jpeg", "jpg", "image/jpeg" },
        { "gif", "gif", "image/gif" },
        { "webp", "webp", "image/webp" },
        { "svg", "svg", "image/svg+xml" },
    };

    public static byte[] Sample(string format) => format switch
    {
        "png" => SampleImages.Png(7, 5),
        "jpeg" => SampleImages.Jpeg(7, 5),
        "webp" => SampleImages.WebP(7, 5),
        "gif" => SampleImages.Gif(),
        "svg" => SampleImages.Svg(),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    [Theory, MemberData(nameof(Formats))]
    public void Each_accepted_format_is_recognised_from_its_bytes(string format, string extension, string contentType)
    {
        var (kind, refusal) = ImageInspector.Inspect(Sample(format), Defaults);

        Assert.Null(refusal);
        Assert.Equal(extension, kind!.Extension);
        Assert.Equal(contentType, kind.ContentType);
        Assert.Equal(contentType, ImageInspector.ContentTypeOf(extension));
    }

    [Theory]
    [InlineData("png", 7, 5)]
    [InlineData("jpeg", 7, 5)]
    [InlineData("webp", 7, 5)]
    [InlineData("gif", 1, 1)]
    public void Raster_dimensions_come_from_the_header(string format, int width, int height)
    {
        var (kind, _) = ImageInspector.Inspect(Sample(format), Defaults);

        Assert.Equal((width, height), (kind!.Width, kind.Height));
    }

    [Theory]
    [InlineData(100_000, 100_000)]
    [InlineData(16_384, 16_384)]
    [InlineData(16_385, 1)]
    [InlineData(1, 16_385)]
    [InlineData(6_400, 6_250)]
    [InlineData(3_015, 13_267)]
    public void A_crafted_png_header_is_measured_as_it_claims(int width, int height)
    {
        var png = SampleImages.PngClaiming(width, height);
        Assert.Equal((width, height), SampleImages.PngHeaderSize(png));

        var (kind, refusal) = ImageInspector.Inspect(png, new ImageLimits { MaxPixels = long.MaxValue, MaxSide = int.MaxValue });

        Assert.Null(refusal);
        Assert.Equal((width, height), (kind!.Width, kind.Height));
    }

    [Theory]
    [InlineData(100_000, 100_000, "100000×100000")]
    [InlineData(16_385, 1, "16385×1")]
    [InlineData(1, 16_385, "1×16385")]
    [InlineData(16_384, 16_384, "16384×16384")] // every side fits; 268 megapixels do not
    [InlineData(3_015, 13_267, "3015×13267")] // 40,000,005 pixels: the nearest product above 40,000,000 with both sides ≤ 16,384
    public void A_raster_beyond_the_limits_is_refused_as_a_bad_image_naming_its_size(int width, int height, string size)
    {
        var (kind, refusal) = ImageInspector.Inspect(SampleImages.PngClaiming(width, height), Defaults);

        Assert.Null(kind);
        Assert.False(refusal!.Unsupported);
        Assert.Contains(size, refusal.Detail);
    }

    [Theory]
    [InlineData("gif", "60000×60000")]
    [InlineData("jpeg", "60000×60000")]
    [InlineData("webp", "16383×16383")] // VP8's largest: within a side, 268 megapixels in all
    public void A_header_of_any_raster_format_claiming_a_huge_size_is_refused_naming_it(string format, string size)
    {
        var bytes = format switch
        {
            "gif" => SampleImages.GifClaiming(60_000, 60_000),
            "jpeg" => SampleImages.JpegClaiming(60_000, 60_000),
            _ => SampleImages.WebPClaiming(16_383, 16_383),
        };

        var (kind, refusal) = ImageInspector.Inspect(bytes, Defaults);

        Assert.Null(kind);
        Assert.False(refusal!.Unsupported);
        Assert.Contains(size, refusal.Detail);
    }

    [Theory]
    [InlineData(6_400, 6_250)] // exactly 40,000,000 pixels
    [InlineData(16_384, 2_441)] // a full-width side, 39,993,344 pixels
    [InlineData(2_441, 16_384)]
    [InlineData(16_384, 1)]
    public void A_raster_just_within_the_limits_is_accepted(int width, int height)
    {
        var (kind, refusal) = ImageInspector.Inspect(SampleImages.PngClaiming(width, height), Defaults);

        Assert.Null(refusal);
        Assert.Equal((width, height), (kind!.Width, kind.Height));
    }

    [Fact]
    public void The_limits_are_whatever_is_configured()
    {
        var limits = new ImageLimits { MaxSide = 10, MaxPixels = 50 };

        Assert.Null(ImageInspector.Inspect(SampleImages.PngClaiming(10, 5), limits).Refusal);
        Assert.NotNull(ImageInspector.Inspect(SampleImages.PngClaiming(11, 1), limits).Refusal);
        Assert.NotNull(ImageInspector.Inspect(SampleImages.PngClaiming(10, 6), limits).Refusal);
    }

    [Theory]
    [InlineData("corrupt")]
    [InlineData("truncated")]
    [InlineData("jpeg-start")]
    [InlineData("gif-start")]
    [InlineData("webp-start")]
    public void Bytes_that_start_like_an_image_but_are_not_one_are_a_bad_image(string sample)
    {
        var bytes = sample switch
        {
            "corrupt" => SampleImages.CorruptPng(),
            "truncated" => SampleImages.TruncatedPng(),
            "jpeg-start" => [0xFF, 0xD8, 0xFF, .. "garbage, not a JPEG segment"u8],
            "gif-start" => [.. "GIF89a"u8, .. "garbage"u8],
            "webp-start" => [.. "RIFF\x10\0\0\0WEBP"u8, .. "garbage"u8],
            _ => throw new ArgumentOutOfRangeException(nameof(sample)),
        };

        var (kind, refusal) = ImageInspector.Inspect(bytes, Defaults);

        Assert.Null(kind);
        Assert.False(refusal!.Unsupported);
        Assert.False(string.IsNullOrWhiteSpace(refusal.Detail));
    }

    [Theory]
    [InlineData("plain text, renamed to .png")]
    [InlineData("%PDF-1.7\n")]
    [InlineData("MZ\u0090\0")]
    [InlineData("BM6\0\0\0")]
    [InlineData("{\"json\": true}")]
    public void Bytes_of_another_kind_are_unsupported(string content)
    {
        var (kind, refusal) = ImageInspector.Inspect(Encoding.UTF8.GetBytes(content), Defaults);

        Assert.Null(kind);
        Assert.True(refusal!.Unsupported);
        Assert.Contains("PNG", refusal.Detail);
    }

    [Fact]
    public void An_empty_file_is_refused()
    {
        var (kind, refusal) = ImageInspector.Inspect([], Defaults);

        Assert.Null(kind);
        Assert.NotNull(refusal);
    }
}
