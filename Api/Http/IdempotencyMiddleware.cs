using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Credentials.Api.Auth;
using Credentials.Api.Extensions;
using Credentials.Api.Images;
using Credentials.Grains;
using Credentials.Grains.Idempotency;
using Credentials.Grains.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Credentials.Api.Http;

/// <summary>
/// Idempotency-Key on every POST under <c>/api/</c> (contract C3, ADR 0014). The org grain holds
/// the keys; this middleware validates the header, fingerprints the body, claims the key, and
/// either replays the kept answer or runs the endpoint with its answer captured, has the grain keep
/// it durably, and only then sends it. Endpoints know nothing of it.
/// </summary>
public sealed partial class IdempotencyMiddleware(
    RequestDelegate next,
    IGrainFactory grains,
    IOptions<IdempotencyOptions> options,
    IOptions<ApiOptions> api,
    IOptions<ImageLimits> images,
    ILogger<IdempotencyMiddleware> logger)
{
    public const string KeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;

    /// <summary>The answer's headers a replay repeats; the rest (X-Request-Id, Date) belong to the new request.</summary>
    private static readonly string[] KeptHeaders = [HeaderNames.ContentType, HeaderNames.Location, HeaderNames.ETag, HeaderNames.LastModified, HeaderNames.ContentLanguage];

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method) || !request.Path.StartsWithSegments("/api") || !request.Headers.TryGetValue(KeyHeader, out var values))
        {
            return next(context);
        }
        return WithKey(context, values);
    }

    private async Task WithKey(HttpContext context, Microsoft.Extensions.Primitives.StringValues values)
    {
        var request = context.Request;
        if (values.Count != 1 || !IsValidKey(values[0]))
        {
            await Problems.Invalid(KeyHeader, $"An {KeyHeader} is 1 to {MaxKeyLength} printable ASCII characters, sent once.").ExecuteAsync(context);
            return;
        }
        if (context.GetEndpoint() is not { } endpoint || context.User.RateLimitKey() is not { } credential)
        {
            await next(context); // 404, 405: nothing to keep
            return;
        }
        if (endpoint.Metadata.GetMetadata<RefusesIdempotencyKey>() is not null)
        {
            await Problems.Invalid(KeyHeader, "This call takes no Idempotency-Key: its answer holds a secret that is never stored.").ExecuteAsync(context);
            return;
        }

        var maxBody = MaxBodyBytes(request);
        if (request.ContentLength > maxBody)
        {
            await next(context); // the endpoint's 413
            return;
        }
        request.EnableBuffering();
        var cancellation = context.RequestAborted;
        var (fingerprint, length) = await IdempotencyFingerprint.ComputeAsync(request, maxBody, cancellation);
        if (fingerprint is null)
        {
            await Problems.WriteAsync(context, Problems.TooLarge($"The body may be at most {maxBody} bytes."));
            return;
        }
        // The body was read to its end: endpoints see its true length (a chunked body has none).
        request.ContentLength = length;

        var creates = !request.RouteValues.ContainsKey("org");
        var org = creates ? await OrgInBodyAsync(request, cancellation) : request.RouteValues["org"] as string;
        if (!OrgKeys.IsValid(org))
        {
            await next(context); // the endpoint's 400
            return;
        }
        var path = request.PathBase.Add(request.Path).Value!;
        var keyed = new IdempotentRequest(Scope(credential, path, values[0]!), fingerprint, creates);
        var grain = grains.GetOrgGrain(org!);
        var claim = await grain.ClaimIdempotencyKey(keyed);
        switch (claim.Start)
        {
            case IdempotentStart.Replay:
                await ReplayAsync(context.Response, claim.Answer!);
                return;
            case IdempotentStart.InFlight:
                await Problems.WriteAsync(context, Problems.IdempotencyKeyInUse(claim.Detail));
                return;
            case IdempotentStart.Mismatch:
                await Problems.WriteAsync(context, Problems.IdempotencyKeyReused());
                return;
            case IdempotentStart.QuotaExceeded:
                await Problems.WriteAsync(context, Problems.QuotaExceeded(claim.Detail!));
                return;
            case IdempotentStart.NotKept:
                await next(context);
                return;
        }
        await RunAsync(context, grain, keyed, claim.Lease);
    }

    private async Task RunAsync(HttpContext context, IOrgGrain grain, IdempotentRequest keyed, Guid lease)
    {
        var response = context.Response;
        var original = response.Body;
        await using var capture = new AnswerCapture(original, options.Value.MaxAnswerBytes);
        response.Body = capture;
        try
        {
            await next(context);
        }
        catch
        {
            response.Body = original;
            await ReleaseAsync(grain, keyed, lease);
            throw;
        }
        response.Body = original;

        // 5xx answers are not kept (a repeat runs again), nor ones already sent (too large to hold).
        var answer = response.StatusCode >= 500 || capture.Overflowed || response.HasStarted ? null : Answer(response, capture);
        try
        {
            await grain.CompleteIdempotencyKey(keyed, lease, answer);
        }
        catch (Exception ex) when (ex is StorageUnavailableException || StorageFailures.IsStorageFailure(ex))
        {
            // The change itself is durable: its answer is still the truth, though a repeat will run again.
            LogNotKept(logger, ex, context.TraceIdentifier);
        }
        if (answer is null && capture.Overflowed) LogTooLarge(logger, context.TraceIdentifier, options.Value.MaxAnswerBytes);
        await capture.SendAsync(context.RequestAborted);
    }

    private async Task ReleaseAsync(IOrgGrain grain, IdempotentRequest keyed, Guid lease)
    {
        try
        {
            await grain.CompleteIdempotencyKey(keyed, lease, null);
        }
        catch (Exception ex)
        {
            // The lease runs out on its own.
            LogNotReleased(logger, ex);
        }
    }

    private static StoredAnswer Answer(HttpResponse response, AnswerCapture capture)
    {
        var headers = new List<string>();
        foreach (var name in KeptHeaders)
        {
            if (response.Headers.TryGetValue(name, out var value) && value.Count > 0)
            {
                headers.Add(name);
                headers.Add(value.ToString());
            }
        }
        return new StoredAnswer(response.StatusCode, [.. headers], capture.Captured());
    }

    private static async Task ReplayAsync(HttpResponse response, StoredAnswer answer)
    {
        response.StatusCode = answer.Status;
        for (var i = 0; i + 1 < answer.Headers.Length; i += 2) response.Headers[answer.Headers[i]] = answer.Headers[i + 1];
        response.Headers[ReplayedHeader] = "true";
        response.ContentLength = answer.Body.Length;
        await response.Body.WriteAsync(answer.Body);
    }

    public static bool IsValidKey(string? key) =>
        key is { Length: > 0 and <= MaxKeyLength } && key.All(c => c is >= ' ' and <= '~');

    /// <summary>Who asked, where, with which key: one digest, so a key is never shared between credentials or paths.</summary>
    public static string Scope(string credential, string path, string key) =>
        Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes($"{credential}\n{path.TrimEnd('/')}\n{key}")));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A route without an org (platform create) names the org in its JSON body's <c>key</c>.</summary>
    private static async Task<string?> OrgInBodyAsync(HttpRequest request, CancellationToken cancellation)
    {
        if (!request.HasJsonContentType()) return null;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellation);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("key", out var key) && key.ValueKind == JsonValueKind.String
                ? key.GetString()
                : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    /// <summary>The most any endpoint takes: a JSON or form body, or an image upload.</summary>
    private long MaxBodyBytes(HttpRequest request) =>
        request.HasFormContentType
            ? Math.Max(api.Value.MaxBodyBytes, images.Value.MaxFileBytes + ImageIntake.EnvelopeBytes)
            : api.Value.MaxBodyBytes;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: its Idempotency-Key could not be kept (storage unavailable); the answer was sent.")]
    private static partial void LogNotKept(ILogger logger, Exception exception, string requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: its answer is larger than Idempotency:MaxAnswerBytes ({MaxBytes}) and was not kept.")]
    private static partial void LogTooLarge(ILogger logger, string requestId, int maxBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An Idempotency-Key could not be released; its lease will lapse.")]
    private static partial void LogNotReleased(ILogger logger, Exception exception);
}

/// <summary>Marks an endpoint that refuses an Idempotency-Key with 400 (token creation: its secret is never stored).</summary>
public sealed class RefusesIdempotencyKey
{
    public static readonly RefusesIdempotencyKey Instance = new();
}

public static class IdempotencyEndpoints
{
    public static TBuilder RefusesIdempotencyKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(Http.RefusesIdempotencyKey.Instance);
}
