using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;

namespace Credentials.Grains.Images;

/// <summary>
/// Accepts an SVG only when it is passive: parsed as XML with DTD processing and external
/// resolution off, it must have an <c>svg</c> root and no scripts, <c>foreignObject</c>, event
/// handlers, <c>javascript:</c> URLs, entity declarations, DOCTYPE internal subsets, processing
/// instructions or references outside the document (other than raster <c>data:</c> images).
/// A plain DOCTYPE line is accepted and never fetched.
/// </summary>
public static partial class SvgInspector
{
    private static readonly string[] ForbiddenElements = ["script", "foreignobject", "iframe", "embed", "object", "handler", "listener"];
    private static readonly string[] AnimationElements = ["set", "animate", "animatemotion", "animatetransform", "animatecolor"];
    private static readonly string[] ReferenceAttributes = ["href", "src", "xlink:href", "data", "action", "formaction"];

    [GeneratedRegex(@"url\(\s*(['""]?)(.*?)\1\s*\)", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex CssUrl();

    [GeneratedRegex(@"^data:image/(png|jpeg|gif|webp)[;,]", RegexOptions.IgnoreCase)]
    private static partial Regex RasterDataUri();

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

    public static (ImageKind?, ImageRefusal?) Inspect(byte[] bytes)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Refuse("An SVG must be UTF-8 text.");
        }
        // A byte-order mark is fine in a file, but XmlReader over a string takes it for content.
        if (text.StartsWith('\uFEFF')) text = text[1..];

        // Entity declarations and internal subsets are refused before any parser sees them.
        if (text.Contains("<!ENTITY", StringComparison.OrdinalIgnoreCase)) return Refuse("SVG entity declarations are not accepted.");
        // Every occurrence: the first may sit in a comment, in front of the real one.
        for (var doctype = text.IndexOf("<!DOCTYPE", StringComparison.OrdinalIgnoreCase); doctype >= 0;
             doctype = text.IndexOf("<!DOCTYPE", doctype + 1, StringComparison.OrdinalIgnoreCase))
        {
            if (HasInternalSubset(text, doctype)) return Refuse("A DOCTYPE with an internal subset is not accepted.");
        }

        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Ignore,
            XmlResolver = null,
            MaxCharactersFromEntities = 0,
            IgnoreComments = true,
            IgnoreWhitespace = true,
        };
        try
        {
            using var reader = XmlReader.Create(new StringReader(text), settings);
            var sawRoot = false;
            int width = 0, height = 0;
            // The text of the <style> element being read: checked whole, as a browser would join it.
            StringBuilder? style = null;
            var styleDepth = -1;
            while (reader.Read())
            {
                switch (reader.NodeType)
                {
                    case XmlNodeType.ProcessingInstruction:
                        return Refuse("Processing instructions (such as xml-stylesheet) are not accepted in SVG.");
                    case XmlNodeType.Element:
                        var name = reader.LocalName.ToLowerInvariant();
                        if (!sawRoot)
                        {
                            if (name != "svg") return Refuse("The document's root element must be <svg>.");
                            sawRoot = true;
                            width = Dimension(reader.GetAttribute("width"));
                            height = Dimension(reader.GetAttribute("height"));
                        }
                        if (ForbiddenElements.Contains(name)) return Refuse($"<{reader.LocalName}> is not accepted in SVG.");
                        if (AnimationElements.Contains(name) && CheckAnimation(reader) is { } animationProblem) return Refuse(animationProblem);
                        if (CheckAttributes(reader) is { } problem) return Refuse(problem);
                        if (name == "style" && !reader.IsEmptyElement && style is null)
                        {
                            style = new StringBuilder();
                            styleDepth = reader.Depth;
                        }
                        break;
                    case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.SignificantWhitespace or XmlNodeType.Whitespace:
                        style?.Append(reader.Value);
                        break;
                    case XmlNodeType.EndElement when style is not null && reader.Depth == styleDepth:
                        if (CheckStyle(style.ToString()) is { } styleProblem) return Refuse(styleProblem);
                        style = null;
                        break;
                }
            }
            if (!sawRoot) return Refuse("The document has no <svg> root element.");
            return (new ImageKind("svg", "image/svg+xml", width, height), null);
        }
        catch (XmlException ex)
        {
            return Refuse($"The SVG is not well-formed XML: {ex.Message}");
        }
    }

    private static string? CheckAttributes(XmlReader reader)
    {
        if (!reader.HasAttributes) return null;
        for (var i = 0; i < reader.AttributeCount; i++)
        {
            reader.MoveToAttribute(i);
            var name = reader.Name.ToLowerInvariant();
            var local = reader.LocalName.ToLowerInvariant();
            var value = reader.Value;
            if (local.StartsWith("on", StringComparison.Ordinal)) return $"Event-handler attributes ({reader.Name}) are not accepted in SVG.";
            if (Squash(value).Contains("javascript:", StringComparison.OrdinalIgnoreCase)) return "javascript: URLs are not accepted in SVG.";
            if ((ReferenceAttributes.Contains(name) || local == "href") && !IsLocalReference(value))
            {
                return $"The reference '{Shorten(value)}' points outside the document.";
            }
            if (CheckStyle(value) is { } problem) return problem;
        }
        reader.MoveToElement();
        return null;
    }

    private static string? CheckStyle(string css)
    {
        // "u\72l(" is url( and "@\69mport" is @import to a browser: check what it would read.
        if (css.Contains('\\')) css = UnescapeCss(css);
        if (css.Contains("@import", StringComparison.OrdinalIgnoreCase)) return "@import is not accepted in SVG styles.";
        // image-set() takes bare strings as URLs, so url() checks would not see them.
        if (css.Contains("image-set(", StringComparison.OrdinalIgnoreCase)) return "image-set() is not accepted in SVG styles.";
        if (Squash(css).Contains("javascript:", StringComparison.OrdinalIgnoreCase)) return "javascript: URLs are not accepted in SVG.";
        foreach (Match match in CssUrl().Matches(css))
        {
            if (!IsLocalReference(match.Groups[2].Value)) return $"The reference '{Shorten(match.Groups[2].Value)}' points outside the document.";
        }
        return null;
    }

    /// <summary>
    /// <c>set</c> and <c>animate</c> can give an attribute a value the attribute checks never saw:
    /// an href pointing out of the document, or an event handler.
    /// </summary>
    private static string? CheckAnimation(XmlReader reader)
    {
        var target = reader.GetAttribute("attributeName")?.Trim().ToLowerInvariant() ?? "";
        var local = target[(target.IndexOf(':') + 1)..];
        if (local.StartsWith("on", StringComparison.Ordinal)) return $"Animating an event handler ({target}) is not accepted in SVG.";
        if (local != "href") return null;
        foreach (var attribute in (string[])["to", "from", "by", "values"])
        {
            foreach (var value in (reader.GetAttribute(attribute) ?? "").Split(';'))
            {
                if (!IsLocalReference(value)) return $"The reference '{Shorten(value.Trim())}' points outside the document.";
            }
        }
        return null;
    }

    /// <summary>Whether the DOCTYPE starting at <paramref name="start"/> has a [...] subset; quoted ids may hold '>' or '['.</summary>
    private static bool HasInternalSubset(string text, int start)
    {
        char? quote = null;
        for (var i = start + "<!DOCTYPE".Length; i < text.Length; i++)
        {
            var c = text[i];
            if (quote is not null)
            {
                if (c == quote) quote = null;
            }
            else if (c is '"' or '\'') quote = c;
            else if (c == '[') return true;
            else if (c == '>') return false;
        }
        return true; // unterminated: not a plain DOCTYPE line
    }

    /// <summary>CSS escapes resolved: a backslash and 1–6 hex digits (plus one optional space) or any other character.</summary>
    private static string UnescapeCss(string css)
    {
        var builder = new StringBuilder(css.Length);
        for (var i = 0; i < css.Length; i++)
        {
            if (css[i] != '\\' || i + 1 == css.Length)
            {
                builder.Append(css[i]);
                continue;
            }
            var digits = 0;
            while (digits < 6 && i + 1 + digits < css.Length && char.IsAsciiHexDigit(css[i + 1 + digits])) digits++;
            if (digits == 0)
            {
                if (css[i + 1] is not ('\n' or '\r' or '\f')) builder.Append(css[i + 1]);
                i++;
                continue;
            }
            var value = int.Parse(css.AsSpan(i + 1, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            builder.Append(value is > 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF) ? char.ConvertFromUtf32(value) : "\uFFFD");
            i += digits;
            if (i + 1 < css.Length && char.IsWhiteSpace(css[i + 1])) i++;
        }
        return builder.ToString();
    }

    /// <summary>A fragment of this document, or an embedded raster image.</summary>
    private static bool IsLocalReference(string value)
    {
        var trimmed = value.Trim();
        return trimmed.Length == 0 || trimmed.StartsWith('#') || RasterDataUri().IsMatch(trimmed);
    }

    /// <summary>Browsers ignore whitespace and control characters inside a scheme ("java\tscript:").</summary>
    private static string Squash(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if (!char.IsWhiteSpace(c) && !char.IsControl(c)) builder.Append(c);
        }
        return builder.ToString();
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
