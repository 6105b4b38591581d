using System.Buffers;

namespace Credentials.Grains;

/// <summary>
/// What a valid org (platform) key is: 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or
/// digit. Keys appear in paths, tokens and blob file names, so every layer checks this one rule.
/// </summary>
public static class OrgKeys
{
    public const string Message = "A platform key is 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or digit.";

    private static readonly SearchValues<char> Allowed = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_-");

    // A span check rather than a regex: it runs several times on every request.
    public static bool IsValid(string? key) =>
        key is { Length: > 0 and <= 64 }
        && (char.IsAsciiLetterLower(key[0]) || char.IsAsciiDigit(key[0]))
        && !key.AsSpan().ContainsAnyExcept(Allowed);
}
