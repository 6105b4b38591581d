using System.Xml;

namespace Credentials.Api.Images;

/// <summary>
/// What an SVG would cost to draw, counted before any renderer sees it: its elements, the elements
/// it draws once every <c>use</c> is expanded (a chain of uses each repeating the last multiplies,
/// a billion-laughs in geometry), and the pixels of the rasters it embeds as <c>data:</c> URIs.
/// One forward read, then one scan of the element list with each referenced subtree summed once.
/// </summary>
public static class SvgShape
{
    /// <summary>A chain of uses deeper than this is not a drawing anyone made by hand or tool.</summary>
    public const int MaxUseChain = 64;

    /// <summary>Why the SVG is past the bounds, or null when it may be rendered.</summary>
    public static string? Refusal(byte[] svg, RenditionOptions options)
    {
        var ends = new List<int>();
        var uses = new Dictionary<int, string>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var open = new Stack<int>();
        long embeddedPixels = 0;
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null, IgnoreComments = true, IgnoreWhitespace = true };
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(svg, writable: false), settings);
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.EndElement)
                {
                    ends[open.Pop()] = ends.Count;
                    continue;
                }
                if (reader.NodeType != XmlNodeType.Element) continue;
                var index = ends.Count;
                if (index >= options.MaxSvgElements) return $"The SVG has more than {options.MaxSvgElements} elements to draw.";
                ends.Add(index + 1);
                if (reader.GetAttribute("id") is { } id) ids.TryAdd(id, index);
                var href = reader.GetAttribute("href") ?? reader.GetAttribute("href", SvgInspector.XLinkNamespace);
                if (reader.LocalName == "use" && href is ['#', .. var target]) uses[index] = target;
                if (reader.LocalName == "image" && href is not null)
                {
                    embeddedPixels += EmbeddedPixels(href);
                    if (embeddedPixels > options.MaxDecodePixels) return "The SVG embeds images of too many pixels.";
                }
                if (!reader.IsEmptyElement) open.Push(index);
            }
        }
        catch (XmlException)
        {
            return "The SVG is not well-formed XML.";
        }
        return new Expansion(ends, uses, ids, options.MaxSvgDrawnElements).Refusal();
    }

    /// <summary>
    /// The document without its DOCTYPE, so no renderer ever resolves a DTD: the SVG library reads
    /// a DOCTYPE's system identifier when external resources are not wholly off, and uploads that
    /// passed the inspector are namespace-well-formed without one (no entities, no internal subset).
    /// The same bytes when there is none.
    /// </summary>
    public static byte[] WithoutDocumentType(byte[] svg)
    {
        if (svg.AsSpan().IndexOf("<!DOCTYPE"u8) < 0) return svg;
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null };
        using var output = new MemoryStream(svg.Length);
        using (var reader = XmlReader.Create(new MemoryStream(svg, writable: false), settings))
        using (var writer = XmlWriter.Create(output, new XmlWriterSettings { Encoding = new System.Text.UTF8Encoding(false), OmitXmlDeclaration = true }))
        {
            reader.Read();
            while (!reader.EOF)
            {
                if (reader.NodeType is XmlNodeType.DocumentType or XmlNodeType.XmlDeclaration) reader.Read();
                else writer.WriteNode(reader, defattr: true);
            }
        }
        return output.ToArray();
    }

    /// <summary>Pixels of a <c>data:</c> raster, read from its header; anything else draws nothing here.</summary>
    private static long EmbeddedPixels(string href)
    {
        var comma = href.IndexOf(',', StringComparison.Ordinal);
        if (!href.StartsWith("data:", StringComparison.OrdinalIgnoreCase) || comma < 0 || !href.AsSpan(0, comma).EndsWith(";base64", StringComparison.OrdinalIgnoreCase)) return 0;
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(href[(comma + 1)..].Trim());
        }
        catch (FormatException)
        {
            return 0;
        }
        var limits = new ImageLimits { MaxPixels = long.MaxValue / 2, MaxSide = 65_535 };
        return ImageInspector.Inspect(bytes, limits).Kind is { Extension: not "svg" } kind ? (long)kind.Width * kind.Height : 0;
    }

    private sealed class Expansion(List<int> ends, Dictionary<int, string> uses, Dictionary<string, int> ids, long max)
    {
        private readonly Dictionary<int, long> _expanded = [];
        private readonly HashSet<int> _expanding = [];

        public string? Refusal()
        {
            try
            {
                Drawn(0, ends.Count, 0);
                return null;
            }
            catch (PastBounds ex)
            {
                return ex.Message;
            }
        }

        /// <summary>Elements drawn by the elements in [start, end), a subtree already summed counted at once.</summary>
        private long Drawn(int start, int end, int chain)
        {
            long total = 0;
            for (var i = start; i < end;)
            {
                if (i != start && _expanded.TryGetValue(i, out var known))
                {
                    total += known;
                    i = ends[i];
                }
                else
                {
                    total++;
                    if (uses.TryGetValue(i, out var target) && ids.TryGetValue(target, out var referenced)) total += Expanded(referenced, chain + 1);
                    i++;
                }
                if (total > max) throw new PastBounds($"The SVG draws more than {max} elements once its uses are expanded.");
            }
            return total;
        }

        private long Expanded(int element, int chain)
        {
            if (_expanded.TryGetValue(element, out var known)) return known;
            if (chain > MaxUseChain) throw new PastBounds($"The SVG chains more than {MaxUseChain} uses.");
            if (!_expanding.Add(element)) throw new PastBounds("The SVG uses an element inside itself.");
            var drawn = Drawn(element, ends[element], chain);
            _expanding.Remove(element);
            _expanded[element] = drawn;
            return drawn;
        }
    }

    private sealed class PastBounds(string message) : Exception(message);
}
