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

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}\\z")]
    private static partial Regex NamePattern();

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    public static string NewSecret(string org) => $"{Prefix}{org}.{RandomBase64Url(32)}";

    /// <summary><paramref name="bytes"/> random bytes as URL-safe base64 without padding.</summary>
    public static string RandomBase64Url(int bytes)
    {
        Span<byte> random = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(random);
        return System.Buffers.Text.Base64Url.EncodeToString(random);
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>The org an org token names, or null when <paramref name="token"/> is not shaped like one.</summary>
    public static string? OrgOf(string token)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var dot = token.IndexOf('.', Prefix.Length);
        return dot > Prefix.Length ? token[Prefix.Length..dot] : null;
    }
}
