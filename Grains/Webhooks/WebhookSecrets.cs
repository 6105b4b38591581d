using System.Security.Cryptography;
using System.Text;

namespace Credentials.Grains.Webhooks;

/// <summary>
/// Signing secrets: <c>whsec_</c> + base64 of 32 random bytes (Standard Webhooks). The HMAC key must
/// be usable for every delivery, so unlike a token's hash the secret itself is kept, always sealed
/// with AES-GCM under <paramref name="key"/> (<c>aesgcm:</c> nonce, tag, ciphertext). Stored forms
/// sealed under one of <paramref name="previousKeys"/>, or kept <c>plain:</c> by releases before
/// ADR 0019, are still read, and <see cref="Reseal"/> turns them into the current key's.
/// </summary>
public sealed class WebhookSecrets
{
    public const string Prefix = "whsec_";
    private const string Encrypted = "aesgcm:";
    private const string Plain = "plain:";
    private const int SecretBytes = 32;
    public const int KeyBytes = 32;

    private readonly byte[] _key;
    private readonly byte[][] _previousKeys;

    public WebhookSecrets(byte[] key, IEnumerable<byte[]>? previousKeys = null)
    {
        if (key.Length != KeyBytes) throw new ArgumentException($"A webhook secret key has {KeyBytes} bytes.", nameof(key));
        _key = key;
        _previousKeys = previousKeys?.Where(k => !k.AsSpan().SequenceEqual(key)).ToArray() ?? [];
    }

    /// <summary>The key ring the options name; <paramref name="defaultKeyFile"/> (a lone silo's data directory) is used when none is configured.</summary>
    public static WebhookSecrets From(WebhookOptions options, string? defaultKeyFile)
    {
        var previous = (options.PreviousSecretKeys ?? []).Select(Convert.FromBase64String).ToList();
        byte[] key;
        if (!string.IsNullOrEmpty(options.SecretKey)) key = Convert.FromBase64String(options.SecretKey);
        else if (!string.IsNullOrEmpty(options.SecretKeyFile)) key = WebhookKeyFile.Read(options.SecretKeyFile);
        else if (defaultKeyFile is not null) return new WebhookSecrets(WebhookKeyFile.ReadOrCreate(defaultKeyFile), previous);
        else throw new InvalidOperationException(WebhookOptions.MissingKeyMessage);
        // A key configured after the generated one: what the generated key sealed stays readable.
        if (defaultKeyFile is not null && File.Exists(defaultKeyFile)) previous.Add(WebhookKeyFile.Read(defaultKeyFile));
        return new WebhookSecrets(key, previous);
    }

    public static bool IsValidKey(string key)
    {
        var bytes = new byte[key.Length];
        return Convert.TryFromBase64String(key.Trim(), bytes, out var length) && length == KeyBytes;
    }

    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>The HMAC key a secret stands for: its base64 part decoded.</summary>
    public static byte[] SigningKey(string secret) => Convert.FromBase64String(secret[Prefix.Length..]);

    /// <summary>The stored form of <paramref name="secret"/>: sealed under the current key, with a fresh nonce.</summary>
    public string Protect(string secret)
    {
        var plain = Encoding.UTF8.GetBytes(secret);
        var sealedBytes = new byte[AesGcm.NonceByteSizes.MaxSize + AesGcm.TagByteSizes.MaxSize + plain.Length];
        var nonce = sealedBytes.AsSpan(0, AesGcm.NonceByteSizes.MaxSize);
        var tag = sealedBytes.AsSpan(nonce.Length, AesGcm.TagByteSizes.MaxSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, tag.Length);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(nonce.Length + tag.Length), tag);
        return Encrypted + Convert.ToBase64String(sealedBytes);
    }

    /// <summary>The secret a stored form stands for; throws <see cref="CryptographicException"/> when no key of the ring sealed it.</summary>
    public string Unprotect(string stored) => Open(stored, out _);

    /// <summary>
    /// The stored form to keep instead of <paramref name="stored"/>: sealed under the current key
    /// when it is plain or sealed under a previous key; null when it already is the current key's.
    /// </summary>
    public string? Reseal(string stored)
    {
        var secret = Open(stored, out var current);
        return current ? null : Protect(secret);
    }

    private string Open(string stored, out bool current)
    {
        current = false;
        if (stored.StartsWith(Plain, StringComparison.Ordinal)) return stored[Plain.Length..];
        if (!stored.StartsWith(Encrypted, StringComparison.Ordinal)) throw new FormatException("Unknown stored webhook secret format.");
        var sealedBytes = Convert.FromBase64String(stored[Encrypted.Length..]);
        if (sealedBytes.Length < AesGcm.NonceByteSizes.MaxSize + AesGcm.TagByteSizes.MaxSize) throw new FormatException("A sealed webhook secret is too short.");
        if (TryOpen(_key, sealedBytes) is { } secret)
        {
            current = true;
            return secret;
        }
        foreach (var key in _previousKeys)
        {
            if (TryOpen(key, sealedBytes) is { } older) return older;
        }
        throw new CryptographicException("No webhook secret key opens this webhook's secret: set the key it was sealed with in Webhooks:SecretKey or Webhooks:PreviousSecretKeys.");
    }

    private static string? TryOpen(byte[] key, byte[] sealedBytes)
    {
        var nonce = sealedBytes.AsSpan(0, AesGcm.NonceByteSizes.MaxSize);
        var tag = sealedBytes.AsSpan(nonce.Length, AesGcm.TagByteSizes.MaxSize);
        var cipher = sealedBytes.AsSpan(nonce.Length + tag.Length);
        var plain = new byte[cipher.Length];
        using var aes = new AesGcm(key, tag.Length);
        try
        {
            aes.Decrypt(nonce, cipher, tag, plain);
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
        return Encoding.UTF8.GetString(plain);
    }
}
