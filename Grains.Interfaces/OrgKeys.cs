using System.Text.RegularExpressions;

namespace Credentials.Grains;

/// <summary>
/// What a valid org (platform) key is: 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or
/// digit. Keys appear in paths, tokens and blob file names, so every layer checks this one rule.
/// </summary>
public static partial class OrgKeys
{
    public const string Message = "A platform key is 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or digit.";

    // \z, not $: in .NET "$" also matches before a final newline, which would let "org\n" through.
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,63}\\z")]
    private static partial Regex Pattern();

    public static bool IsValid(string? key) => key is not null && Pattern().IsMatch(key);
}
