using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Credentials.Api.Http;

/// <summary>
/// The SHA-256 of a request body as Idempotency-Key compares it (C3): its media type and bytes;
/// for multipart, each part's headers and bytes, so the same fields and files sent again with a new
/// boundary are the same body. One pass over the bytes (two for multipart): linear in the size.
/// </summary>
public static class IdempotencyFingerprint
{
    /// <summary>
    /// Parts hashed one by one at most (our forms have a handful): a body of many tiny parts costs a
    /// section, a header dictionary and strings per part, so past this its raw bytes are compared.
    /// </summary>
    public const int MaxParts = 64;

    /// <summary>Reads the (buffered, rewindable) body; null when it is longer than <paramref name="maxBytes"/>.</summary>
    public static async Task<(byte[]? Fingerprint, long Length)> ComputeAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType);
        var mediaType = contentType?.MediaType.Value?.ToLowerInvariant() ?? "";
        using var raw = Start(mediaType);
        var length = await HashAsync(raw, request.Body, maxBytes, cancellationToken);
        request.Body.Position = 0;
        if (length < 0) return (null, 0);

        var fingerprint = raw.GetHashAndReset();
        var boundary = HeaderUtilities.RemoveQuotes(contentType?.Boundary ?? default).Value;
        if (mediaType == "multipart/form-data" && !string.IsNullOrEmpty(boundary))
        {
            fingerprint = await MultipartAsync(request.Body, boundary, mediaType, maxBytes, cancellationToken) ?? fingerprint;
            request.Body.Position = 0;
        }
        return (fingerprint, length);
    }

    /// <summary>Null when the body is not well-formed multipart, or has more than <see cref="MaxParts"/> parts: then its raw bytes are what is compared.</summary>
    private static async Task<byte[]?> MultipartAsync(Stream body, string boundary, string mediaType, long maxBytes, CancellationToken cancellationToken)
    {
        using var hash = Start(mediaType + ";parts");
        try
        {
            var reader = new MultipartReader(boundary, body) { BodyLengthLimit = maxBytes };
            var parts = 0;
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (++parts > MaxParts) return null;
                foreach (var (name, value) in (section.Headers ?? []).OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase))
                {
                    AppendText(hash, name.ToLowerInvariant());
                    AppendText(hash, value.ToString());
                }
                AppendLength(hash, await HashAsync(hash, section.Body, maxBytes, cancellationToken));
            }
            return hash.GetHashAndReset();
        }
        catch (Exception ex) when (ex is InvalidDataException || (ex is IOException and not BadHttpRequestException))
        {
            return null;
        }
    }

    private static IncrementalHash Start(string mediaType)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendText(hash, mediaType);
        return hash;
    }

    /// <summary>Hashes what <paramref name="source"/> holds; its length, or -1 past <paramref name="maxBytes"/>.</summary>
    private static async Task<long> HashAsync(IncrementalHash hash, Stream source, long maxBytes, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
                if (total > maxBytes) return -1;
                hash.AppendData(buffer, 0, read);
            }
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Every text is length-prefixed, so no two different sequences of parts hash alike.
    private static void AppendText(IncrementalHash hash, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        AppendLength(hash, bytes.Length);
        hash.AppendData(bytes);
    }

    private static void AppendLength(IncrementalHash hash, long length)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(prefix, length);
        hash.AppendData(prefix);
    }
}
