using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Credentials.Api.Contracts;
using Credentials.Api.Extensions;
using Credentials.Grains;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Http;

/// <summary>
/// The JSON of issuer pages this node has written, by org, query, offset and limit, with the
/// version of the org's issuers each was taken at (ADR 0018). A read still asks the org grain,
/// which answers "unchanged" while that version is current, so a cached page is never served
/// after a write, on this node or another; what the cache saves is the serialisation of the page.
/// Bounded in bytes (<see cref="ApiOptions.PageCacheBytes"/>); only pages of one grain reply are kept.
/// </summary>
public sealed class IssuerPageCache(IOptions<ApiOptions> options)
{
    /// <summary>Bookkeeping counted per entry on top of its bytes.</summary>
    private const int EntryOverhead = 128;

    private readonly ConcurrentDictionary<Key, Entry> _entries = new();
    private readonly Lock _gate = new();
    private long _bytes;

    public readonly record struct Key(string Org, string? Query, long Offset, int Limit);

    /// <summary>The <c>data</c> array of a page as written (UTF-8 JSON), its total count and version.</summary>
    public sealed record Entry(long Version, int Count, byte[] Data);

    private long Budget => options.Value.PageCacheBytes;

    /// <summary>Bytes held now, overhead included.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    public Entry? Get(in Key key) => Budget > 0 && _entries.TryGetValue(key, out var entry) ? entry : null;

    /// <summary>
    /// Serialises <paramref name="items"/> as the page's <c>data</c> array, keeps it (when it fits the
    /// budget) and returns its bytes; they are the same as writing each item with <paramref name="json"/>.
    /// </summary>
    public byte[] Add(in Key key, IssuerPage page, string org, JsonSerializerOptions json)
    {
        var data = Serialize(page.Items, org, json);
        Store(key, new Entry(page.Version, page.Count, data));
        return data;
    }

    /// <summary>Drops the page kept under <paramref name="key"/>, if any.</summary>
    public void Remove(in Key key)
    {
        lock (_gate)
        {
            if (_entries.TryRemove(key, out var old)) _bytes -= SizeOf(key, old);
        }
    }

    /// <summary>The JSON array of <paramref name="items"/> as the list answer writes it.</summary>
    public static byte[] Serialize(IReadOnlyList<Issuer> items, string org, JsonSerializerOptions json)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = json.Encoder, Indented = json.WriteIndented }))
        {
            var info = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<IssuerView>)json.GetTypeInfo(typeof(IssuerView));
            writer.WriteStartArray();
            foreach (var issuer in items) JsonSerializer.Serialize(writer, IssuerView.From(org, issuer), info);
            writer.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private void Store(in Key key, Entry entry)
    {
        var budget = Budget;
        var size = SizeOf(key, entry);
        if (size > budget / 8) return;
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var old)) _bytes -= SizeOf(key, old);
            _entries[key] = entry;
            _bytes += size;
            // Evicts others in whatever order they enumerate: a bound, not a policy; a page costs one
            // serialisation to rebuild.
            foreach (var (other, _) in _entries)
            {
                if (_bytes <= budget) break;
                if (other != key && _entries.TryRemove(other, out var evicted)) _bytes -= SizeOf(other, evicted);
            }
        }
    }

    private static long SizeOf(in Key key, Entry entry) =>
        entry.Data.Length + 2L * (key.Org.Length + (key.Query?.Length ?? 0)) + EntryOverhead;
}
