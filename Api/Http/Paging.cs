using System.Globalization;
using System.Text;

namespace Credentials.Api.Http;

/// <summary>The contract's limit/offset rules (A3) and the links that move between pages.</summary>
public readonly record struct Paging(long Offset, int Limit)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;

    public const string LimitText = "Page size: default 50, larger values are clamped to 1000.";
    public const string OffsetText = "How many items to skip: default 0.";

    /// <summary>
    /// Empty values count as absent; non-integers, a negative offset or a limit below 1 are
    /// refused; a limit above the maximum (however large) is clamped.
    /// </summary>
    public static bool TryParse(string? limitText, string? offsetText, int defaultLimit, out Paging paging,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out Microsoft.AspNetCore.Http.HttpResults.ValidationProblem? problem)
    {
        paging = default;
        problem = null;
        var limit = defaultLimit;
        if (!string.IsNullOrEmpty(limitText))
        {
            if (!TryParseInteger(limitText, out var parsed, out var negative) || negative || parsed < 1)
            {
                problem = Problems.Invalid("limit", "limit must be an integer of at least 1.");
                return false;
            }
            limit = (int)Math.Min(parsed, MaxLimit);
        }
        long offset = 0;
        if (!string.IsNullOrEmpty(offsetText))
        {
            if (!TryParseInteger(offsetText, out offset, out var negative) || negative)
            {
                problem = Problems.Invalid("offset", "offset must be a non-negative integer.");
                return false;
            }
        }
        paging = new Paging(offset, limit);
        return true;
    }

    /// <summary>
    /// A cursor (<c>after</c>): empty counts as absent (0); anything but a non-negative integer is
    /// refused, naming <paramref name="name"/>.
    /// </summary>
    public static bool TryParseCursor(string? text, string name, out long value,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out Microsoft.AspNetCore.Http.HttpResults.ValidationProblem? problem)
    {
        value = 0;
        problem = null;
        if (string.IsNullOrEmpty(text)) return true;
        if (TryParseInteger(text, out value, out var negative) && !negative) return true;
        problem = Problems.Invalid(name, $"{name} must be a non-negative integer.");
        return false;
    }

    /// <summary>Parses an optionally signed decimal integer; values beyond long saturate.</summary>
    private static bool TryParseInteger(string text, out long value, out bool negative)
    {
        value = 0;
        var span = text.AsSpan();
        negative = span.Length > 0 && span[0] == '-';
        if (span.Length > 0 && (span[0] == '-' || span[0] == '+')) span = span[1..];
        if (span.Length == 0) return false;
        foreach (var c in span)
        {
            if (c is < '0' or > '9') return false;
        }
        if (negative)
        {
            // "-0" is zero, not a negative number.
            negative = span.TrimStart('0').Length > 0;
            return true;
        }
        value = long.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : long.MaxValue;
        return true;
    }

    public long PageNumber => Offset / Limit + 1;

    /// <summary>The links to the neighbouring pages of <paramref name="count"/> items, null at the ends.</summary>
    public (string? Next, string? Previous) Neighbours(string baseUrl, string path, string? query, long count) =>
    (
        // Written so that a huge offset cannot overflow into a "next" page.
        Offset < count - (long)Limit ? Link(baseUrl, path, query, Limit, Offset + Limit) : null,
        Offset > 0 ? Link(baseUrl, path, query, Limit, Math.Max(0, Offset - Limit)) : null
    );

    public static long PageCount(int count, int limit) => count == 0 ? 1 : (count + (long)limit - 1) / limit;

    /// <summary>The page link for <paramref name="offset"/>, keeping <c>q</c> and the effective limit.</summary>
    public static string Link(string baseUrl, string path, string? query, int limit, long offset)
    {
        var builder = new StringBuilder(baseUrl.Length + path.Length + 48);
        builder.Append(baseUrl).Append(path).Append('?');
        if (!string.IsNullOrEmpty(query)) builder.Append("q=").Append(Uri.EscapeDataString(query)).Append('&');
        builder.Append("limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
        builder.Append("&offset=").Append(offset.ToString(CultureInfo.InvariantCulture));
        return builder.ToString();
    }
}

/// <summary>
/// A query parameter bound as text, so that its errors and clamping are <see cref="Paging"/>'s,
/// described in the OpenAPI document as the integer it is parsed to.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class IntegerQueryAttribute(long minimum, string description) : Attribute
{
    public long Minimum { get; } = minimum;
    public string Description { get; } = description;
}
