using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Credentials.Grains.Storage;

namespace Credentials.Grains.Quotas;

/// <summary>
/// The size of a record as it is stored: the length of its UTF-8 JSON. A deterministic function of
/// the record, so an org's usage recomputed at activation is exactly what its writes added up to.
/// </summary>
public static class RecordSize
{
    private static readonly JsonTypeInfo<Issuer> IssuerJson = TypeInfo<Issuer>();
    private static readonly JsonTypeInfo<ImageRecord> ImageJson = TypeInfo<ImageRecord>();
    private static readonly JsonTypeInfo<PlatformRecord> PlatformJson = TypeInfo<PlatformRecord>();
    private static readonly JsonTypeInfo<Idempotency.IdempotencyRecord> IdempotencyJson = TypeInfo<Idempotency.IdempotencyRecord>();

    public static long Of(Issuer issuer) => Measure(issuer, IssuerJson);

    public static long Of(ImageRecord image) => Measure(image, ImageJson);

    /// <summary>A kept Idempotency-Key with its answer: counted in the org's record bytes.</summary>
    public static long Of(Idempotency.IdempotencyRecord record) => Measure(record, IdempotencyJson);

    /// <summary>A platform as its row stores it (bounds the org directory's replies).</summary>
    public static long Of(Platform platform) => Measure(new PlatformRecord(platform.Key, platform.Name, platform.Created), PlatformJson);

    private static long Measure<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var counter = Counter.Instance ??= new Counter();
        counter.Written = 0;
        using (var writer = new Utf8JsonWriter(counter))
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
        }
        return counter.Written;
    }

    private static JsonTypeInfo<T> TypeInfo<T>() =>
        (JsonTypeInfo<T>?)StorageJsonContext.Default.GetTypeInfo(typeof(T))
        ?? throw new NotSupportedException($"{typeof(T)} is not in {nameof(StorageJsonContext)}.");

    /// <summary>Counts what is written into it, reusing one scratch buffer: measuring allocates nothing that grows with the record.</summary>
    private sealed class Counter : IBufferWriter<byte>
    {
        [ThreadStatic] public static Counter? Instance;

        private byte[] _scratch = new byte[4096];
        public long Written;

        public void Advance(int count) => Written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => Scratch(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Scratch(sizeHint);

        private byte[] Scratch(int sizeHint)
        {
            if (sizeHint > _scratch.Length) _scratch = new byte[Math.Max(sizeHint, _scratch.Length * 2)];
            return _scratch;
        }
    }
}
