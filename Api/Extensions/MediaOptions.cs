using System.ComponentModel.DataAnnotations;

namespace Credentials.Api.Extensions;

/// <summary>Section <c>Media</c>: the in-memory cache of hot blobs in front of the blob store (co-hosted silo only).</summary>
public sealed class MediaOptions
{
    /// <summary>Most bytes of blob content the cache holds; 0 turns it off.</summary>
    [Range(0, 16L * 1024 * 1024 * 1024)]
    public long CacheBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Largest blob cached; bigger ones stream from the store, so one large image cannot empty the cache.</summary>
    [Range(0, 64 * 1024 * 1024)]
    public long CacheEntryBytes { get; set; } = 1024 * 1024;
}
