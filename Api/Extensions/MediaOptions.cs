using System.ComponentModel.DataAnnotations;

namespace Credentials.Api.Extensions;

/// <summary>Section <c>Media</c>: the in-memory cache of hot blobs in front of the blob store (every API node; ADR 0003, 0017).</summary>
public sealed class MediaOptions
{
    /// <summary>Most bytes of blob content the cache holds; 0 turns it off.</summary>
    [Range(0, 16L * 1024 * 1024 * 1024)]
    public long CacheBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Largest blob cached; bigger ones stream from the store, so one large image cannot empty the cache.</summary>
    [Range(0, 64 * 1024 * 1024)]
    public long CacheEntryBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Client-mode API nodes: the longest a blob deleted on a silo may still be served from this
    /// node's cache (its deletion feed is polled four times as often).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.2", "00:01:00")]
    public TimeSpan DeletionStaleness { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Client-mode API nodes: a cached blob is read from the store again after this long, should the feed have missed its deletion.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ClientCacheMaxAge { get; set; } = TimeSpan.FromMinutes(10);
}
