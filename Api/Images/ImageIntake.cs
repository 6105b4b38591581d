using System.Globalization;
using System.Security.Cryptography;
using Credentials.Api.Http;
using Credentials.Grains;
using Credentials.Grains.Blobs;
using Credentials.Grains.Images;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Credentials.Api.Images;

/// <summary>
/// The upload protocol (A2, B6), in the order it runs: size limits, the multipart form, the
/// file's inspection and name, its hash, the org's room for it, then bytes first and record
/// second; a small file (<see cref="ImageBytes.MaxInlineBytes"/>) goes to the grain with its record
/// (<see cref="IOrgGrain.AddImageWithBytes"/>), which checks the room and stores both in one commit.
/// The grain's half of the protocol is <see cref="IOrgGrain.AddImage"/>: it answers
/// <see cref="OutcomeStatus.BlobMissing"/> when the bytes are not (or no longer) in the store,
/// and the intake puts them again, a bounded number of times.
/// </summary>
public sealed class ImageIntake(string org, IOrgGrain grain, IBlobStore blobs, ImageLimits limits)
{
    /// <summary>Room for the multipart framing and the name field around a maximal file.</summary>
    public const long EnvelopeBytes = 64 * 1024;

    /// <summary>Puts of the bytes before the intake gives up on a blob that keeps being collected.</summary>
    public const int StoreAttempts = 8;

    private long MaxFile => limits.MaxFileBytes;
    private long MaxBody => MaxFile + EnvelopeBytes;

    /// <summary>Receives the upload in <paramref name="request"/>; <paramref name="ok"/> answers the stored image.</summary>
    public async Task<Results<TOk, ProblemHttpResult, ValidationProblem>> ReceiveAsync<TOk>(HttpRequest request, Func<ImageRecord, TOk> ok)
        where TOk : IResult
    {
        var cancellation = request.HttpContext.RequestAborted;
        if (request.ContentLength > MaxBody) return TooLarge();
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = MaxBody;
        if (!request.HasFormContentType || !request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.UnsupportedMediaType("Send multipart/form-data with the file in the \"image\" field.");
        }

        // Nothing is stored for an org that does not exist. A small body is read first: the grain
        // call that stores it answers for a missing org too, so it is asked once, not twice.
        if (request.ContentLength is not (> 0 and <= ImageBytes.MaxInlineBytes) && await grain.GetPlatform() is null) return Problems.OrgNotFound(org);

        var (form, formProblem) = await ReadFormAsync(request);
        if (formProblem is not null) return formProblem;

        var file = form!.Files.GetFile("image");
        if (file is null) return Problems.Invalid("image", "No file was submitted in the \"image\" field.");
        if (file.Length > MaxFile) return TooLarge();

        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
        {
            await stream.ReadExactlyAsync(bytes, cancellation);
        }
        var (kind, refusal) = ImageInspector.Inspect(bytes, limits, cancellation);
        if (refusal is not null)
        {
            return refusal.Unsupported
                ? Problems.UnsupportedMediaType(refusal.Detail)
                : Problems.Invalid(new Dictionary<string, string[]> { ["image"] = [refusal.Detail] }, refusal.Detail);
        }
        var name = form.TryGetValue("name", out var names) ? names[^1] : null;
        // The grain decides; checking here too keeps the bytes of a refused upload out of the store.
        if (ImageRules.Name(name, file.FileName, kind!.Extension).Error is { } nameError) return Problems.Invalid("name", nameError);

        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var upload = new ImageUpload(name, file.FileName, hash, kind.Extension, bytes.Length, kind.Width, kind.Height);
        // A small upload goes to the grain with its bytes: one call, and stored in the record's own commit.
        if (bytes.Length <= ImageBytes.MaxInlineBytes)
        {
            var inline = new ImageBytes(bytes);
            return OutcomeResults.MapWrite(await StoreAsync(() => grain.AddImageWithBytes(upload, inline), cancellation), org, ok);
        }
        // Bytes that would not fit the org's limits are never written; AddImage decides again.
        var room = await grain.CheckImageRoom(upload);
        if (room.Status == OutcomeStatus.QuotaExceeded) return Problems.QuotaExceeded(room.Detail!);

        return OutcomeResults.MapWrite(await StoreAsync(async () =>
        {
            await blobs.PutAsync(org, upload.Sha256, bytes, cancellation);
            return await grain.AddImage(upload);
        }, cancellation), org, ok);
    }

    /// <summary>The form, read within the body limit; a malformed body is the client's error, not a 500.</summary>
    private async Task<(IFormCollection? Form, ProblemHttpResult? Problem)> ReadFormAsync(HttpRequest request)
    {
        try
        {
            request.HttpContext.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions
            {
                MultipartBodyLengthLimit = MaxBody,
                ValueCountLimit = 64,
                MemoryBufferThreshold = 1024 * 1024,
            }));
            return (await request.ReadFormAsync(request.HttpContext.RequestAborted), null);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge());
        }
        catch (Exception ex) when (ex is InvalidDataException || (ex is IOException and not BadHttpRequestException))
        {
            // A missing boundary, a truncated part, a bad part header.
            return (null, Problems.BadRequest("The multipart body could not be read."));
        }
    }

    /// <summary>
    /// Bytes first, record second (or both in one commit): a crash in between leaves an
    /// unreferenced blob, never a record without bytes. If the blob is being collected just now,
    /// <paramref name="attempt"/> runs again.
    /// </summary>
    private static async Task<Outcome<ImageRecord>> StoreAsync(Func<Task<Outcome<ImageRecord>>> attempt, CancellationToken cancellation)
    {
        for (var n = 0; n < StoreAttempts; n++)
        {
            if (n > 0) await Task.Delay(20 * n, cancellation);
            var outcome = await attempt();
            if (outcome.Status != OutcomeStatus.BlobMissing) return outcome;
        }
        throw new StorageUnavailableException("The image's bytes could not be stored; retry later.");
    }

    private ProblemHttpResult TooLarge() =>
        Problems.TooLarge($"The image file may be at most {MaxFile.ToString(CultureInfo.InvariantCulture)} bytes.");
}
