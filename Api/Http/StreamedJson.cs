using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Http;

/// <summary>
/// A 200 JSON answer written while it is still being fetched: the handler writes one grain reply at
/// a time and flushes it, so no request holds more than one bounded reply (B6) however large the
/// answer. Written with the same serializer options as every other answer, so the bytes are the
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
        var body = context.Response.BodyWriter;
        await using var json = new Utf8JsonWriter(body, new JsonWriterOptions
        {
            Encoder = options.Encoder,
            Indented = options.WriteIndented,
        });
        await write(new StreamedJsonWriter(json, options, body, context.RequestAborted));
        json.Flush();
        await body.FlushAsync(context.RequestAborted);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(TBody), ["application/json"]));
}

/// <summary>What a <see cref="StreamedJson{TBody}"/> handler writes with.</summary>
public sealed class StreamedJsonWriter(Utf8JsonWriter json, JsonSerializerOptions options, System.IO.Pipelines.PipeWriter body, CancellationToken aborted)
{
    public Utf8JsonWriter Json => json;

    public CancellationToken Aborted => aborted;

    /// <summary>Writes one value as the API writes it everywhere else.</summary>
    public void Write<T>(T value) => JsonSerializer.Serialize(json, value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));

    /// <summary>Sends what is written so far, waiting while the client is slower than we are.</summary>
    public async Task FlushAsync()
    {
        json.Flush();
        await body.FlushAsync(aborted);
    }
}
