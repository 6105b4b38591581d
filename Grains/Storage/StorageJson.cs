using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Orleans.Storage;

namespace Credentials.Grains.Storage;

/// <summary>
/// Stores chunks as UTF-8 JSON through System.Text.Json source generation: no reflection at run
/// time, and rows stay readable with psql or sqlite3 when an operator needs to look.
/// </summary>
public sealed class StorageJsonSerializer : IGrainStorageSerializer
{
    public BinaryData Serialize<T>(T? input)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(input!, TypeInfo<T>());
        ChunkStore.BytesWritten.Add(bytes.Length, new KeyValuePair<string, object?>("org", ChunkStore.WritingOrg.Value));
        return new BinaryData(bytes);
    }

    public T Deserialize<T>(BinaryData input) => Deserialize<T>(input.ToMemory().Span);

    /// <summary>Decodes a row's payload straight from a buffer (bulk reads hand over their reader's buffer).</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> payload) => JsonSerializer.Deserialize(payload, TypeInfo<T>())!;

    private static JsonTypeInfo<T> TypeInfo<T>() =>
        (JsonTypeInfo<T>?)StorageJsonContext.Default.GetTypeInfo(typeof(T))
        ?? throw new NotSupportedException($"{typeof(T)} is not registered in {nameof(StorageJsonContext)}.");
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Chunk<Issuer>))]
[JsonSerializable(typeof(Chunk<ImageRecord>))]
[JsonSerializable(typeof(Chunk<OrgEvent>))]
[JsonSerializable(typeof(Chunk<RenditionRecord>))]
[JsonSerializable(typeof(PlatformRecord))]
[JsonSerializable(typeof(TokenSet))]
[JsonSerializable(typeof(Webhooks.WebhookSet))]
[JsonSerializable(typeof(Webhooks.DeliveryState))]
[JsonSerializable(typeof(Webhooks.StoredReminder))]
[JsonSerializable(typeof(Chunk<Idempotency.IdempotencyRecord>))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
