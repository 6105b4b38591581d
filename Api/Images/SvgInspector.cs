using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Xml;

namespace Credentials.Api.Images;

/// <summary>
/// Accepts an SVG only when every part of it is on an allow-list of passive content: SVG drawing
/// elements and their attributes, <c>href</c>s to <c>#fragments</c> (and, on images, raster
/// <c>data:</c> URIs), CSS that loads nothing outside the document, and the metadata namespaces
/// drawing programs write. Anything else — another namespace's element (XHTML <c>img</c>,
/// <c>video</c>, <c>link</c>…), an unknown attribute (<c>ping</c>, <c>srcset</c>, <c>xml:base</c>…),
/// an event handler, a processing instruction, an entity, a DOCTYPE internal subset — is refused.
/// One forward pass, bounded in depth, width, element count and time (B6).
/// </summary>
public static class SvgInspector
{
    public const string SvgNamespace = "http://www.w3.org/2000/svg";
    public const string XLinkNamespace = "http://www.w3.org/1999/xlink";
    private const string XmlNamespace = "http://www.w3.org/XML/1998/namespace";
    private const string XmlnsNamespace = "http://www.w3.org/2000/xmlns/";

    /// <summary>Deeper element nesting is refused: drawings nest a few dozen levels.</summary>
    public const int MaxDepth = 256;
    /// <summary>Attributes (namespace declarations included) on one element.</summary>
    public const int MaxAttributes = 256;
    /// <summary>Elements in one document: a 10 MiB drawing of small shapes has a few hundred thousand.</summary>
    public const int MaxElements = 2_000_000;

    /// <summary>
    /// Namespaces of editor metadata (Inkscape, Sodipodi, RDF, Creative Commons, Dublin Core).
    /// Browsers know none of them, so their elements and attributes are inert: accepted anywhere
    /// and not checked further, though any SVG, XLink or other content inside them is.
    /// </summary>
    public static readonly FrozenSet<string> MetadataNamespaces = FrozenSet.Create(StringComparer.Ordinal,
        "http://www.inkscape.org/namespaces/inkscape",
        "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
        "http://inkscape.sourceforge.net/DTD/sodipodi-0.dtd",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "http://creativecommons.org/ns#",
        "http://web.resource.org/cc/",
        "http://purl.org/dc/elements/1.1/",
        "http://purl.org/dc/terms/");

    /// <summary>Static SVG: structure, shapes, text, paint servers, clipping, masking, filters, and declarative animation.</summary>
    public static readonly FrozenSet<string> Elements = FrozenSet.Create(StringComparer.Ordinal,
        "svg", "g", "defs", "symbol", "use", "title", "desc", "metadata", "switch", "a", "view", "style",
        "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "image",
        "text", "tspan", "textPath",
        "linearGradient", "radialGradient", "stop", "pattern", "meshgradient", "meshrow", "meshpatch", "hatch", "hatchpath",
        "clipPath", "mask", "marker",
        "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix", "feDiffuseLighting",
        "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR",
        "feGaussianBlur", "feImage", "feMerge", "feMergeNode", "feMorphology", "feOffset", "fePointLight",
        "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
        "animate", "animateTransform", "animateMotion", "set", "mpath");

    /// <summary>Elements whose href may also be a raster data: URI; every other href must be a #fragment.</summary>
    private static readonly FrozenSet<string> ImageElements = FrozenSet.Create(StringComparer.Ordinal, "image", "feImage");

    private static readonly FrozenSet<string> AnimationElements = FrozenSet.Create(StringComparer.Ordinal, "animate", "animateTransform", "animateMotion", "set");

    /// <summary>
    /// Unprefixed attributes of SVG elements: presentation attributes (their values are CSS and
    /// checked as such), geometry, paint-server, filter and text parameters, animation timing,
    /// conditional processing. Besides these, <c>href</c>, <c>style</c>, <c>aria-*</c> and <c>data-*</c>.
    /// </summary>
    public static readonly FrozenSet<string> Attributes = FrozenSet.Create(StringComparer.Ordinal,
        // core
        "id", "class", "lang", "tabindex", "role", "focusable",
        // presentation
        "alignment-baseline", "baseline-shift", "clip", "clip-path", "clip-rule", "color", "color-interpolation",
        "color-interpolation-filters", "color-profile", "color-rendering", "cursor", "direction", "display",
        "dominant-baseline", "enable-background", "fill", "fill-opacity", "fill-rule", "filter", "flood-color",
        "flood-opacity", "font", "font-family", "font-size", "font-size-adjust", "font-stretch", "font-style",
        "font-variant", "font-weight", "font-kerning", "glyph-orientation-horizontal", "glyph-orientation-vertical",
        "image-rendering", "kerning", "letter-spacing", "lighting-color", "marker", "marker-end", "marker-mid",
        "marker-start", "mask", "mask-type", "opacity", "overflow", "paint-order", "pointer-events", "shape-rendering",
        "stop-color", "stop-opacity", "stroke", "stroke-dasharray", "stroke-dashoffset", "stroke-linecap",
        "stroke-linejoin", "stroke-miterlimit", "stroke-opacity", "stroke-width", "text-anchor", "text-decoration",
        "text-rendering", "transform-origin", "unicode-bidi", "vector-effect", "visibility", "white-space",
        "word-spacing", "writing-mode", "mix-blend-mode", "isolation", "solid-color", "solid-opacity", "inline-size",
        // geometry and structure
        "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr", "width", "height", "d",
        "points", "pathLength", "transform", "viewBox", "preserveAspectRatio", "version", "baseProfile", "zoomAndPan",
        "viewTarget", "target", "type", "media", "title",
        // paint servers, clipping, masking, markers
        "gradientUnits", "gradientTransform", "spreadMethod", "offset", "patternUnits", "patternContentUnits",
        "patternTransform", "clipPathUnits", "maskUnits", "maskContentUnits", "markerUnits", "markerWidth",
        "markerHeight", "refX", "refY", "orient", "hatchUnits", "hatchContentUnits", "pitch",
        // filters
        "filterUnits", "primitiveUnits", "filterRes", "in", "in2", "result", "mode", "values", "tableValues",
        "slope", "intercept", "amplitude", "exponent", "operator", "k1", "k2", "k3", "k4", "order", "kernelMatrix",
        "divisor", "bias", "targetX", "targetY", "edgeMode", "kernelUnitLength", "preserveAlpha", "surfaceScale",
        "diffuseConstant", "specularConstant", "specularExponent", "scale", "xChannelSelector", "yChannelSelector",
        "stdDeviation", "dx", "dy", "azimuth", "elevation", "z", "pointsAtX", "pointsAtY", "pointsAtZ",
        "limitingConeAngle", "baseFrequency", "numOctaves", "seed", "stitchTiles", "radius",
        // text
        "rotate", "textLength", "lengthAdjust", "startOffset", "method", "spacing", "side", "path",
        // animation
        "attributeName", "attributeType", "begin", "dur", "end", "min", "max", "restart", "repeatCount", "repeatDur",
        "calcMode", "keyTimes", "keySplines", "keyPoints", "from", "to", "by", "additive", "accumulate", "origin",
        // conditional processing
        "requiredFeatures", "requiredExtensions", "systemLanguage", "externalResourcesRequired");

    /// <summary>What an animation may not change: what would bypass the checks above.</summary>
    private static readonly FrozenSet<string> UnanimatableAttributes = FrozenSet.Create(StringComparer.Ordinal,
        "href", "style", "attributeName", "attributeType", "type", "values", "from", "to", "by", "begin", "end");

    public static bool LooksLikeXml(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) bytes = bytes[3..];
        foreach (var b in bytes)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            return b == (byte)'<';
        }
        return false;
    }

    /// <summary>
    /// Inspects <paramref name="bytes"/>; throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellation"/> fires (the caller turns its own deadline into a refusal).
    /// </summary>
    public static (ImageKind?, ImageRefusal?) Inspect(byte[] bytes, CancellationToken cancellation = default)
    {
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) return Refuse("An SVG must be UTF-8 text.");
        var body = bytes.AsSpan();
        var bom = body.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        if (CheckProlog(body[bom..]) is { } prologProblem) return Refuse(prologProblem);
        // The reader parses all of an element's attributes before it shows the element: count them first.
        if (MostAttributes(body, cancellation) > MaxAttributes) return Refuse($"An element with more than {MaxAttributes} attributes is too complex to inspect.");

        var settings = new XmlReaderSettings
        {
            // The prolog check above has refused any internal subset; the DOCTYPE line left is skipped, never fetched.
            DtdProcessing = DtdProcessing.Ignore,
            XmlResolver = null,
            // Backstops: no entity can be declared, and no document holds more characters than bytes.
            MaxCharactersFromEntities = 1024,
            MaxCharactersInDocument = bytes.Length + 1,
            IgnoreComments = true,
            IgnoreWhitespace = true,
            CloseInput = true,
        };
        try
        {
            // Past the byte-order mark; the bytes are UTF-8 whatever the XML declaration says.
            var text = new StreamReader(new MemoryStream(bytes, bom, bytes.Length - bom, writable: false),
                new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false);
            using var reader = XmlReader.Create(text, settings);
            return Walk(reader, cancellation);
        }
        catch (XmlException ex)
        {
            return Refuse($"The SVG is not well-formed XML: {ex.Message}");
        }
    }

    private static (ImageKind?, ImageRefusal?) Walk(XmlReader reader, CancellationToken cancellation)
    {
        var sawRoot = false;
        int width = 0, height = 0, elements = 0;
        // The text of the <style> element being read: checked whole, as a browser joins it.
        using var style = new StyleText();
        while (reader.Read())
        {
            cancellation.ThrowIfCancellationRequested();
            switch (reader.NodeType)
            {
                case XmlNodeType.ProcessingInstruction:
                    return Refuse("Processing instructions (such as xml-stylesheet) are not accepted in SVG.");
                case XmlNodeType.EntityReference:
                    return Refuse("Entity references are not accepted in SVG.");
                case XmlNodeType.Element:
                    if (++elements > MaxElements) return Refuse($"An SVG of more than {MaxElements} elements is too complex to inspect.");
                    if (reader.Depth >= MaxDepth) return Refuse($"An SVG nested more than {MaxDepth} elements deep is too complex to inspect.");
                    if (reader.AttributeCount > MaxAttributes) return Refuse($"An element with more than {MaxAttributes} attributes is too complex to inspect.");
                    if (style.Open) return Refuse("<style> may hold only text in SVG.");
                    if (!sawRoot)
                    {
                        if (reader.LocalName != "svg" || reader.NamespaceURI != SvgNamespace)
                        {
                            return Refuse($"The document's root element must be <svg> in the SVG namespace ({SvgNamespace}).");
                        }
                        sawRoot = true;
                        width = Dimension(reader.GetAttribute("width"));
                        height = Dimension(reader.GetAttribute("height"));
                    }
                    if (CheckElement(reader, cancellation) is { } problem) return Refuse(problem);
                    if (reader.LocalName == "style" && reader.NamespaceURI == SvgNamespace && !reader.IsEmptyElement) style.Start();
                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace or XmlNodeType.Whitespace when style.Open:
                    style.Append(reader);
                    break;
                case XmlNodeType.EndElement when style.Open:
                    // Elements inside <style> are refused, so this end is the style's own.
                    if (CssInspector.Check(style.Text, cancellation) is { } styleProblem) return Refuse(styleProblem);
                    style.Stop();
                    break;
            }
        }
        if (!sawRoot) return Refuse("The document has no <svg> root element.");
        return (new ImageKind("svg", "image/svg+xml", width, height), null);
    }

    /// <summary>The element at the reader and its attributes against the allow-lists; null when accepted.</summary>
    private static string? CheckElement(XmlReader reader, CancellationToken cancellation)
    {
        var element = reader.LocalName;
        var elementNamespace = reader.NamespaceURI;
        var inert = MetadataNamespaces.Contains(elementNamespace);
        if (!inert)
        {
            if (elementNamespace != SvgNamespace)
            {
                return elementNamespace.Length == 0
                    ? $"<{reader.Name}> has no namespace; only SVG elements are accepted in SVG."
                    : $"<{reader.Name}> (namespace {elementNamespace}) is not accepted in SVG: only SVG elements are.";
            }
            if (!Elements.Contains(element)) return $"<{element}> is not accepted in SVG.";
        }
        var animation = !inert && AnimationElements.Contains(element);
        for (var i = 0; i < reader.AttributeCount; i++)
        {
            reader.MoveToAttribute(i);
            if (CheckAttribute(reader, element, inert, animation, cancellation) is { } problem) return problem;
        }
        reader.MoveToElement();
        return null;
    }

    private static string? CheckAttribute(XmlReader reader, string element, bool inertElement, bool animation, CancellationToken cancellation)
    {
        var local = reader.LocalName;
        var ns = reader.NamespaceURI;
        if (ns == XmlnsNamespace) return null;
        if (local.StartsWith("on", StringComparison.OrdinalIgnoreCase)) return $"Event-handler attributes ({reader.Name}) are not accepted in SVG.";
        if (MetadataNamespaces.Contains(ns)) return null;
        var value = reader.Value;
        if (ns == XLinkNamespace)
        {
            return local == "href" ? CheckReference(value, element) : $"xlink:{local} is not accepted in SVG: only xlink:href is.";
        }
        if (ns == XmlNamespace)
        {
            return local is "space" or "lang" ? null : $"xml:{local} is not accepted in SVG: only xml:space and xml:lang are.";
        }
        if (ns.Length != 0) return $"The attribute {reader.Name} (namespace {ns}) is not accepted in SVG.";
        if (local == "href") return CheckReference(value, element);
        if (inertElement) return null;
        if (!Attributes.Contains(local) && local != "style" && !local.StartsWith("aria-", StringComparison.Ordinal) && !local.StartsWith("data-", StringComparison.Ordinal))
        {
            return $"The attribute {local} is not accepted on <{element}> in SVG.";
        }
        if (ContainsJavaScriptUrl(value)) return "javascript: URLs are not accepted in SVG.";
        if (animation && local == "attributeName")
        {
            var target = value.Trim();
            if (target.StartsWith("on", StringComparison.OrdinalIgnoreCase)) return $"Animating an event handler ({target}) is not accepted in SVG.";
            if (target.Contains(':') || UnanimatableAttributes.Contains(target) || !(Attributes.Contains(target) || target.StartsWith("aria-", StringComparison.Ordinal)))
            {
                return $"Animating {target} is not accepted in SVG.";
            }
        }
        // Presentation attributes, style and animation values are CSS; any url() in any value is checked.
        return CheckCss(value, cancellation);
    }

    /// <summary>An href: a #fragment; on an image, also a raster data: URI.</summary>
    private static string? CheckReference(string value, string element)
    {
        var trimmed = value.AsSpan().Trim();
        if (trimmed.IsEmpty || trimmed[0] == '#') return null;
        if (ImageElements.Contains(element) && CssInspector.IsLocal(trimmed)) return null;
        return ContainsJavaScriptUrl(value) ? "javascript: URLs are not accepted in SVG." : $"The reference '{Shorten(value)}' points outside the document.";
    }

    private static string? CheckCss(string css, CancellationToken cancellation) =>
        css.Length == 0 ? null : CssInspector.Check(css, cancellation);

    /// <summary>A style element's text, read in chunks into one pooled buffer (the reader keeps no copy).</summary>
    private sealed class StyleText : IDisposable
    {
        private char[] _buffer = [];
        private int _length;

        public bool Open { get; private set; }

        public ReadOnlySpan<char> Text => _buffer.AsSpan(0, _length);

        public void Start()
        {
            Open = true;
            _length = 0;
        }

        public void Stop() => Open = false;

        public void Append(XmlReader reader)
        {
            while (true)
            {
                if (_buffer.Length - _length < 4096) Grow();
                var read = reader.ReadValueChunk(_buffer, _length, _buffer.Length - _length);
                if (read == 0) return;
                _length += read;
            }
        }

        private void Grow()
        {
            var bigger = System.Buffers.ArrayPool<char>.Shared.Rent(Math.Max(8192, _buffer.Length * 2));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            Return();
            _buffer = bigger;
        }

        private void Return()
        {
            if (_buffer.Length > 0) System.Buffers.ArrayPool<char>.Shared.Return(_buffer);
            _buffer = [];
        }

        public void Dispose() => Return();
    }

    /// <summary>"javascript:" ignoring case and the whitespace and control characters browsers skip inside a scheme.</summary>
    private static bool ContainsJavaScriptUrl(ReadOnlySpan<char> value)
    {
        const string scheme = "javascript:";
        var matched = 0;
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c)) continue;
            // No proper prefix of "javascript:" recurs inside it, so a mismatch restarts at this character.
            if (char.ToLowerInvariant(c) == scheme[matched]) matched++;
            else matched = char.ToLowerInvariant(c) == scheme[0] ? 1 : 0;
            if (matched == scheme.Length) return true;
        }
        return false;
    }

    /// <summary>
    /// The prolog, before any parser sees it, in one pass: the XML declaration, comments, processing
    /// instructions (refused later by the reader) and at most one DOCTYPE, which must be a plain line
    /// (name and external id) with no internal subset: that is where entities and attribute defaults live.
    /// </summary>
    private static string? CheckProlog(ReadOnlySpan<byte> text)
    {
        var i = 0;
        var sawDoctype = false;
        while (true)
        {
            while (i < text.Length && text[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
            var rest = text[i..];
            int end;
            if (rest.StartsWith("<?"u8)) end = Skip(rest, 2, "?>"u8);
            else if (rest.StartsWith("<!--"u8)) end = Skip(rest, 4, "-->"u8);
            else if (rest.StartsWith("<!DOCTYPE"u8))
            {
                if (sawDoctype) return "An SVG may have only one DOCTYPE.";
                sawDoctype = true;
                end = DoctypeEnd(rest);
                if (end < 0) return "A DOCTYPE must be a plain line: an internal subset (where entities are declared) is not accepted.";
            }
            else return null; // the root element, or something the reader will refuse
            if (end < 0) return null; // unterminated: the reader reports it
            i += end;
        }
    }

    /// <summary>
    /// The most attributes any start tag has, counted as quoted values in one pass over the bytes
    /// (comments, CDATA sections and processing instructions skipped). Only a bound: the reader decides.
    /// </summary>
    private static int MostAttributes(ReadOnlySpan<byte> text, CancellationToken cancellation)
    {
        var most = 0;
        var i = 0;
        while (true)
        {
            var open = text[i..].IndexOf((byte)'<');
            if (open < 0) return most;
            i += open;
            var rest = text[i..];
            int end;
            if (rest.StartsWith("<!--"u8)) end = Skip(rest, 4, "-->"u8);
            else if (rest.StartsWith("<![CDATA["u8)) end = Skip(rest, 9, "]]>"u8);
            else if (rest.StartsWith("<?"u8)) end = Skip(rest, 2, "?>"u8);
            else
            {
                var count = 0;
                end = TagEnd(rest, ref count);
                most = Math.Max(most, count);
            }
            if (end < 0) return most;
            i += Math.Max(end, 1);
            cancellation.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Where the tag at the start of <paramref name="rest"/> ends, counting its quoted values.</summary>
    private static int TagEnd(ReadOnlySpan<byte> rest, ref int quoted)
    {
        for (var i = 1; i < rest.Length; i++)
        {
            var c = rest[i];
            if (c == '>') return i + 1;
            if (c is (byte)'"' or (byte)'\'')
            {
                quoted++;
                var close = rest[(i + 1)..].IndexOf(c);
                if (close < 0) return -1;
                i += 1 + close;
            }
        }
        return -1;
    }

    private static int Skip(ReadOnlySpan<byte> rest, int from, ReadOnlySpan<byte> terminator)
    {
        var at = rest[from..].IndexOf(terminator);
        return at < 0 ? -1 : from + at + terminator.Length;
    }

    /// <summary>Where the DOCTYPE at the start of <paramref name="rest"/> ends; -1 for an internal subset or no end. Quoted ids may hold '>' or '['.</summary>
    private static int DoctypeEnd(ReadOnlySpan<byte> rest)
    {
        byte quote = 0;
        for (var i = "<!DOCTYPE".Length; i < rest.Length; i++)
        {
            var c = rest[i];
            if (quote != 0)
            {
                if (c == quote) quote = 0;
            }
            else if (c is (byte)'"' or (byte)'\'') quote = c;
            else if (c == '[') return -1;
            else if (c == '>') return i + 1;
        }
        return -1;
    }

    private static int Dimension(string? value)
    {
        if (value is null) return 0;
        var digits = value.Trim().TrimEnd('x', 'p', 'X', 'P');
        return double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number is > 0 and < int.MaxValue
            ? (int)Math.Ceiling(number)
            : 0;
    }

    private static string Shorten(string value) => value.Length <= 60 ? value : value[..60] + "…";

    private static (ImageKind?, ImageRefusal?) Refuse(string detail) => (null, new ImageRefusal(false, detail));
}
