using System.Buffers;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Http;

/// <summary>
/// A 200 JSON answer written while it is still being fetched: the handler writes one grain reply at
/// a time and flushes it, so no request holds more than one bounded reply (B6) however large the
/// answer. Until the first flush the bytes stay in a pooled buffer: an answer of one reply (the
/// usual page) goes out in one write with a Content-Length, as a buffered answer would, and not
/// chunked. Written with the same serializer options as every other answer, so the bytes are the
/// same as a buffered <typeparamref name="TBody"/> would be. A failure after the first flush can only
/// abort the response: callers make every decision that may fail before they return this.
/// </summary>
/// <typeparam name="TBody">The shape written, for the OpenAPI document.</typeparam>
public sealed class StreamedJson<TBody>(Func<StreamedJsonWriter, Task> write) : IResult, IEndpointMetadataProvider, IStatusCodeHttpResult
{
    public int? StatusCode => StatusCodes.Status200OK;

    public async Task ExecuteAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        using var output = new ResponseOutput(context.Response);
        await using var json = new Utf8JsonWriter(output, new JsonWriterOptions
        {
            Encoder = options.Encoder,
            Indented = options.WriteIndented,
        });
        var writer = new StreamedJsonWriter(json, options, output, context.RequestAborted);
        await write(writer);
        json.Flush();
        await output.CompleteAsync(context.RequestAborted);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(TBody), ["application/json"]));
}

/// <summary>What a <see cref="StreamedJson{TBody}"/> handler writes with.</summary>
public sealed class StreamedJsonWriter
{
    private readonly Utf8JsonWriter _json;
    private readonly JsonSerializerOptions _options;
    private readonly ResponseOutput _output;

    internal StreamedJsonWriter(Utf8JsonWriter json, JsonSerializerOptions options, ResponseOutput output, CancellationToken aborted)
    {
        _json = json;
        _options = options;
        _output = output;
        Aborted = aborted;
    }

    public Utf8JsonWriter Json => _json;

    /// <summary>The serializer options every answer is written with.</summary>
    public JsonSerializerOptions Options => _options;

    public CancellationToken Aborted { get; }

    /// <summary>Writes one value as the API writes it everywhere else.</summary>
    public void Write<T>(T value) => JsonSerializer.Serialize(_json, value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)_options.GetTypeInfo(typeof(T)));

    /// <summary>Sends what is written so far, waiting while the client is slower than we are.</summary>
    public async Task FlushAsync()
    {
        _json.Flush();
        await _output.FlushAsync(Aborted);
    }
}

/// <summary>
/// The response body behind the JSON writer: a pooled buffer until the first flush, the response's
/// own pipe after it.
/// </summary>
internal sealed class ResponseOutput(HttpResponse response) : IBufferWriter<byte>, IDisposable
{
    private const int InitialBytes = 16 * 1024;
    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(InitialBytes);
    private int _written;

    public void Advance(int count)
    {
        if (_buffer is null) response.BodyWriter.Advance(count); else _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (_buffer is null) return response.BodyWriter.GetMemory(sizeHint);
        if (_buffer.Length - _written < Math.Max(sizeHint, 1)) Grow(sizeHint);
        return _buffer.AsMemory(_written..);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    /// <summary>From now on the answer streams (chunked): what is buffered goes first.</summary>
    public async Task FlushAsync(CancellationToken aborted)
    {
        if (_buffer is not null)
        {
            await response.BodyWriter.WriteAsync(_buffer.AsMemory(0, _written), aborted);
            Release();
            return;
        }
        await response.BodyWriter.FlushAsync(aborted);
    }

    /// <summary>Ends the answer: one write with its length when it never streamed.</summary>
    public async Task CompleteAsync(CancellationToken aborted)
    {
        if (_buffer is not null)
        {
            response.ContentLength = _written;
            await response.BodyWriter.WriteAsync(_buffer.AsMemory(0, _written), aborted);
            Release();
            return;
        }
        await response.BodyWriter.FlushAsync(aborted);
    }

    public void Dispose() => Release();

    private void Grow(int sizeHint)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer!.Length * 2, _written + Math.Max(sizeHint, 1)));
        _buffer.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    private void Release()
    {
        if (_buffer is null) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
    }
}
