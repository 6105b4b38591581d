using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Credentials.Grains;

/// <summary>
/// Org API tokens: <c>cro_{org}.{43 URL-safe base64 characters}</c>. The prefix makes a leaked
/// token recognisable (secret scanners, logs) and names the org whose grain can check it; the
/// 256-bit random part is the secret. Only its SHA-256 is stored: a fast hash suffices because
/// nothing about a random 256-bit value can be guessed.
/// </summary>
public static partial class ApiTokens
{
    public const string Prefix = "cro_";
    public const int MaxPerOrg = 100;
    private const int SecretBytes = 32;
    /// <summary>Unpadded URL-safe base64 of <see cref="SecretBytes"/> bytes.</summary>
    private const int SecretLength = (SecretBytes * 4 + 2) / 3;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}\\z")]
    private static partial Regex NamePattern();

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Why a new token may not take <paramref name="name"/> beside the org's live tokens; null when it may.</summary>
    public static string? NameError(string? name, IReadOnlyCollection<string> liveNames)
    {
        if (!IsValidName(name)) return "Use 1 to 64 letters, digits, '.', '_' or '-'.";
        if (liveNames.Contains(name!)) return "A live token with this name already exists.";
        if (liveNames.Count >= MaxPerOrg) return $"A platform may hold at most {MaxPerOrg} live tokens.";
        return null;
    }

    public static string NewSecret(string org) => $"{Prefix}{org}.{RandomBase64Url(SecretBytes)}";

    /// <summary><paramref name="bytes"/> random bytes as URL-safe base64 without padding.</summary>
    public static string RandomBase64Url(int bytes)
    {
        Span<byte> random = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(random);
        return System.Buffers.Text.Base64Url.EncodeToString(random);
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>
    /// The org part of <paramref name="token"/> when it is shaped exactly like an org token
    /// (prefix, a part without dots, a dot, then a secret of the right length and alphabet), else
    /// null. The caller still checks the org part against the org key rule.
    /// </summary>
    public static string? OrgOf(string token)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var dot = token.Length - SecretLength - 1;
        if (dot <= Prefix.Length || token[dot] != '.') return null;
        var org = token.AsSpan(Prefix.Length, dot - Prefix.Length);
        if (org.Contains('.') || !IsBase64Url(token.AsSpan(dot + 1))) return null;
        return org.ToString();
    }

    private static bool IsBase64Url(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_') return false;
        }
        return true;
    }
}
