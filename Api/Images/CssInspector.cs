namespace Credentials.Api.Images;

/// <summary>
/// Finds every reference a piece of CSS could load, reading it as a browser's tokenizer would
/// (CSS Syntax 3: comments, strings, escapes, <c>url(</c> tokens, functions, at-keywords), in one
/// forward pass with no backtracking and no allocation. Allowed: <c>#fragment</c> references and
/// <c>data:</c> URIs of PNG, JPEG, GIF or WebP. Refused: any other <c>url()</c>, <c>@import</c>,
/// <c>image-set()</c>, <c>expression()</c>, and a malformed <c>url(</c> (it may hide one).
/// </summary>
public static class CssInspector
{
    /// <summary>Open blocks and functions a stylesheet may nest; deeper is refused, not tracked.</summary>
    public const int MaxNesting = 256;

    /// <summary>Characters between two looks at the cancellation token.</summary>
    private const int CheckEvery = 16 * 1024;

    /// <summary>Enough of a name or URL to compare it with the few that matter.</summary>
    private const int PrefixLength = 32;

    private const byte Paren = 1, Bracket = 2, Brace = 3, TakesUrls = 0x80;

    /// <summary>Null when <paramref name="css"/> loads nothing outside the document; else why not.</summary>
    public static string? Check(ReadOnlySpan<char> css, CancellationToken cancellation = default)
    {
        // Open blocks, innermost last: which closer ends each, and whether its strings are URLs.
        Span<byte> open = stackalloc byte[MaxNesting];
        var depth = 0;
        var urlFunctions = 0;
        Span<char> prefix = stackalloc char[PrefixLength];
        var nextCheck = CheckEvery;
        var i = 0;
        while (i < css.Length)
        {
            if (i >= nextCheck)
            {
                cancellation.ThrowIfCancellationRequested();
                nextCheck = i + CheckEvery;
            }
            var c = css[i];
            if (c == '/' && At(css, i + 1) == '*')
            {
                var end = css[(i + 2)..].IndexOf("*/", StringComparison.Ordinal);
                i = end < 0 ? css.Length : i + 2 + end + 2;
            }
            else if (c is '"' or '\'')
            {
                i = ReadString(css, i, prefix, out var length, out var bad);
                if (urlFunctions > 0 && (bad || !IsLocal(prefix[..length])))
                {
                    return Outside(prefix[..length]);
                }
            }
            else if (c == '@' && StartsName(css, i + 1))
            {
                i = ReadName(css, i + 1, prefix, out var length);
                if (prefix[..length].Equals("import", StringComparison.OrdinalIgnoreCase)) return "@import is not accepted in SVG styles.";
            }
            else if (StartsName(css, i))
            {
                i = ReadName(css, i, prefix, out var length);
                if (At(css, i) != '(') continue;
                i++;
                var name = prefix[..length];
                if (name.Equals("url", StringComparison.OrdinalIgnoreCase))
                {
                    var start = SkipWhitespace(css, i);
                    if (At(css, start) is '"' or '\'')
                    {
                        // url("…"): a function whose string is the URL.
                        if (Push(open, ref depth, Paren | TakesUrls) is { } tooDeep) return tooDeep;
                        urlFunctions++;
                        continue;
                    }
                    i = ReadUnquotedUrl(css, start, prefix, out var urlLength, out var bad);
                    if (bad) return "A malformed url() is not accepted in SVG styles.";
                    if (!IsLocal(prefix[..urlLength])) return Outside(prefix[..urlLength]);
                }
                else if (name.EndsWith("image-set", StringComparison.OrdinalIgnoreCase))
                {
                    // image-set() takes bare strings as URLs.
                    return "image-set() is not accepted in SVG styles.";
                }
                else if (name.Equals("expression", StringComparison.OrdinalIgnoreCase))
                {
                    return "expression() is not accepted in SVG styles.";
                }
                else
                {
                    // src() and image() take strings as URLs too.
                    var takesUrls = name.Equals("src", StringComparison.OrdinalIgnoreCase) || name.Equals("image", StringComparison.OrdinalIgnoreCase);
                    if (Push(open, ref depth, takesUrls ? Paren | TakesUrls : Paren) is { } tooDeep) return tooDeep;
                    if (takesUrls) urlFunctions++;
                }
            }
            else
            {
                i++;
                if (c is '(' or '[' or '{')
                {
                    if (Push(open, ref depth, c == '(' ? Paren : c == '[' ? Bracket : Brace) is { } tooDeep) return tooDeep;
                }
                else if (c is ')' or ']' or '}' && depth > 0 && (open[depth - 1] & 0x7F) == (c == ')' ? Paren : c == ']' ? Bracket : Brace))
                {
                    // A closer that does not match the innermost block is ignored, as browsers do.
                    if ((open[--depth] & TakesUrls) != 0) urlFunctions--;
                }
            }
        }
        return null;
    }

    /// <summary>
    /// A reference that stays inside: empty, a <c>#fragment</c>, or a raster <c>data:</c> URI.
    /// Leading spaces and C0 controls are what a URL parser strips; anything stranger is refused.
    /// </summary>
    public static bool IsLocal(ReadOnlySpan<char> value)
    {
        var start = 0;
        while (start < value.Length && value[start] <= ' ') start++;
        value = value[start..];
        if (value.IsEmpty || value[0] == '#') return true;
        foreach (var type in (ReadOnlySpan<string>)["data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp"])
        {
            if (value.Length > type.Length && value.StartsWith(type, StringComparison.OrdinalIgnoreCase) && value[type.Length] is ';' or ',') return true;
        }
        return false;
    }

    private static string Outside(ReadOnlySpan<char> prefix) =>
        $"The reference '{prefix.Trim()}{(prefix.Length == PrefixLength ? "…" : "")}' points outside the document.";

    private static string? Push(Span<byte> open, ref int depth, int kind)
    {
        if (depth == open.Length) return $"CSS nested more than {MaxNesting} deep is not accepted in SVG styles.";
        open[depth++] = (byte)kind;
        return null;
    }

    private static char At(ReadOnlySpan<char> css, int i) => i < css.Length ? css[i] : '\0';

    private static bool IsNewline(char c) => c is '\n' or '\r' or '\f';

    private static bool IsWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r' or '\f';

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' || c >= 0x80;

    /// <summary>A backslash that starts an escape: not followed by a newline.</summary>
    private static bool IsEscape(ReadOnlySpan<char> css, int i) => At(css, i) == '\\' && !IsNewline(At(css, i + 1));

    /// <summary>
    /// Whether a run of name characters starts here. Digits are taken into the run too: a number
    /// followed by letters is a dimension to a browser, never a function, and so not url( here either.
    /// </summary>
    private static bool StartsName(ReadOnlySpan<char> css, int i) => i < css.Length && (IsNameChar(css[i]) || IsEscape(css, i));

    private static int SkipWhitespace(ReadOnlySpan<char> css, int i)
    {
        while (i < css.Length && IsWhitespace(css[i])) i++;
        return i;
    }

    /// <summary>Reads name characters and escapes from <paramref name="i"/>; keeps the first ones, decoded, in <paramref name="prefix"/>.</summary>
    private static int ReadName(ReadOnlySpan<char> css, int i, Span<char> prefix, out int length)
    {
        length = 0;
        while (i < css.Length)
        {
            char decoded;
            if (IsNameChar(css[i])) decoded = css[i++];
            else if (IsEscape(css, i)) i = ReadEscape(css, i, out decoded);
            else break;
            if (length < prefix.Length) prefix[length++] = decoded;
        }
        return i;
    }

    /// <summary>
    /// An escape at <paramref name="i"/> (a backslash): 1–6 hex digits and one optional whitespace,
    /// or any other character. Code points beyond the BMP come back as U+FFFD: only ASCII is compared.
    /// </summary>
    private static int ReadEscape(ReadOnlySpan<char> css, int i, out char decoded)
    {
        i++;
        if (i >= css.Length)
        {
            decoded = '\uFFFD';
            return i;
        }
        var digits = 0;
        var value = 0;
        while (digits < 6 && i < css.Length && char.IsAsciiHexDigit(css[i]))
        {
            value = value * 16 + HexValue(css[i]);
            digits++;
            i++;
        }
        if (digits == 0)
        {
            decoded = css[i];
            return i + 1;
        }
        if (i < css.Length && IsWhitespace(css[i]))
        {
            i += css[i] == '\r' && At(css, i + 1) == '\n' ? 2 : 1;
        }
        decoded = value is > 0 and <= 0xFFFF and not (>= 0xD800 and <= 0xDFFF) ? (char)value : '\uFFFD';
        return i;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>A quoted string at <paramref name="i"/>; bad when an unescaped newline ends it.</summary>
    private static int ReadString(ReadOnlySpan<char> css, int i, Span<char> prefix, out int length, out bool bad)
    {
        var quote = css[i++];
        length = 0;
        bad = false;
        while (i < css.Length)
        {
            var c = css[i];
            if (c == quote) return i + 1;
            if (IsNewline(c))
            {
                bad = true;
                return i;
            }
            if (c == '\\')
            {
                var next = At(css, i + 1);
                if (IsNewline(next))
                {
                    // A line continuation: nothing.
                    i += next == '\r' && At(css, i + 2) == '\n' ? 3 : 2;
                    continue;
                }
            }
            i = TakeChar(css, i, prefix, ref length);
        }
        return i;
    }

    /// <summary>The rest of an unquoted <c>url(</c> from <paramref name="i"/> (past the spaces) to its ')'; bad as CSS defines it.</summary>
    private static int ReadUnquotedUrl(ReadOnlySpan<char> css, int i, Span<char> prefix, out int length, out bool bad)
    {
        length = 0;
        bad = false;
        while (i < css.Length)
        {
            var c = css[i];
            if (c == ')') return i + 1;
            if (IsWhitespace(c))
            {
                i = SkipWhitespace(css, i);
                if (i >= css.Length) return i;
                if (css[i] == ')') return i + 1;
                bad = true;
                return i;
            }
            if (c is '"' or '\'' or '(' || c < 0x09 || c == 0x0B || c is >= (char)0x0E and <= (char)0x1F || c == 0x7F)
            {
                bad = true;
                return i;
            }
            if (c == '\\' && !IsEscape(css, i))
            {
                bad = true;
                return i;
            }
            i = TakeChar(css, i, prefix, ref length);
        }
        return i;
    }

    /// <summary>One character or escape at <paramref name="i"/>, decoded into <paramref name="prefix"/> while it has room.</summary>
    private static int TakeChar(ReadOnlySpan<char> css, int i, Span<char> prefix, ref int length)
    {
        char decoded;
        if (css[i] == '\\') i = ReadEscape(css, i, out decoded);
        else decoded = css[i++];
        if (length < prefix.Length) prefix[length++] = decoded;
        return i;
    }
}
