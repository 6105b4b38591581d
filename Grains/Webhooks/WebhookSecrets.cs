using System.Security.Cryptography;
using System.Text;

namespace Credentials.Grains.Webhooks;

/// <summary>
/// Signing secrets: <c>whsec_</c> + base64 of 32 random bytes (Standard Webhooks). The HMAC key must
/// be usable for every delivery, so unlike a token's hash the secret itself is stored; with
/// <see cref="WebhookOptions.SecretKey"/> it is stored encrypted (<c>aesgcm:</c> nonce, tag, ciphertext).
/// </summary>
public sealed class WebhookSecrets(byte[]? key)
{
    public const string Prefix = "whsec_";
    private const string Encrypted = "aesgcm:";
    private const string Plain = "plain:";
    private const int SecretBytes = 32;

    public static WebhookSecrets From(WebhookOptions options) =>
        new(string.IsNullOrEmpty(options.SecretKey) ? null : Convert.FromBase64String(options.SecretKey));

    public static bool IsValidKey(string key)
    {
        var bytes = new byte[key.Length];
        return Convert.TryFromBase64String(key, bytes, out var length) && length == 32;
    }

    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>The HMAC key a secret stands for: its base64 part decoded.</summary>
    public static byte[] SigningKey(string secret) => Convert.FromBase64String(secret[Prefix.Length..]);

    public string Protect(string secret)
    {
        if (key is null) return Plain + secret;
        var plain = Encoding.UTF8.GetBytes(secret);
        var sealedBytes = new byte[AesGcm.NonceByteSizes.MaxSize + AesGcm.TagByteSizes.MaxSize + plain.Length];
        var nonce = sealedBytes.AsSpan(0, AesGcm.NonceByteSizes.MaxSize);
        var tag = sealedBytes.AsSpan(nonce.Length, AesGcm.TagByteSizes.MaxSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, tag.Length);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(nonce.Length + tag.Length), tag);
        return Encrypted + Convert.ToBase64String(sealedBytes);
    }

    /// <summary>The secret a stored form stands for; throws when it was encrypted with another (or no) key.</summary>
    public string Unprotect(string stored)
    {
        if (stored.StartsWith(Plain, StringComparison.Ordinal)) return stored[Plain.Length..];
        if (!stored.StartsWith(Encrypted, StringComparison.Ordinal)) throw new FormatException("Unknown stored webhook secret format.");
        if (key is null) throw new CryptographicException("This webhook's secret is encrypted; set Webhooks:SecretKey.");
        var sealedBytes = Convert.FromBase64String(stored[Encrypted.Length..]);
        var nonce = sealedBytes.AsSpan(0, AesGcm.NonceByteSizes.MaxSize);
        var tag = sealedBytes.AsSpan(nonce.Length, AesGcm.TagByteSizes.MaxSize);
        var cipher = sealedBytes.AsSpan(nonce.Length + tag.Length);
        var plain = new byte[cipher.Length];
        using var aes = new AesGcm(key, tag.Length);
        aes.Decrypt(nonce, cipher, tag, plain);
        return Encoding.UTF8.GetString(plain);
    }
}
