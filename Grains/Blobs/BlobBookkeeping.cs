using Credentials.Grains.Quotas;
using Microsoft.Extensions.Logging;

namespace Credentials.Grains.Blobs;

/// <summary>
/// Which of one org's blobs are in use, and when an unused one may be deleted. Records per hash
/// decide whether a blob's bytes count against the org (once, while any record uses them); an
/// upload checking a hash keeps that blob from being collected; a hash being deleted is reported
/// missing to uploads, which then put it again. Single-threaded, like the grain that owns it.
/// </summary>
public sealed partial class BlobBookkeeping(string org, IBlobStore blobs, OrgUsage usage, TimeProvider clock, ILogger logger)
{
    /// <summary>An unreferenced blob younger than this may belong to an upload still on its way.</summary>
    public static readonly TimeSpan OrphanGrace = TimeSpan.FromMinutes(15);

    private readonly Dictionary<string, int> _blobRefs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _pendingAdds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _collecting = new(StringComparer.Ordinal);

    /// <summary>Whether any record uses the blob.</summary>
    public bool IsReferenced(string hash) => _blobRefs.ContainsKey(hash);

    /// <summary>Counts the records using an image's blob; the blob's bytes count once, while any record uses it.</summary>
    public void Reference(ImageRecord image, int delta) => Reference(image.Sha256, image.Length, delta);

    /// <summary>Counts the users of any blob of the org (an image's bytes, a rendition's).</summary>
    public void Reference(string hash, long length, int delta)
    {
        var before = _blobRefs.GetValueOrDefault(hash);
        var count = before + delta;
        if (count > 0) _blobRefs[hash] = count;
        else _blobRefs.Remove(hash);
        if (before == 0 && count > 0) usage.AddImageBytes(length);
        else if (before > 0 && count <= 0) usage.AddImageBytes(-length);
    }

    /// <summary>
    /// Whether an upload may record the blob: false while it is being deleted or when the store
    /// lacks it. While the store is asked, the blob cannot be collected.
    /// </summary>
    public async Task<bool> IsStoredAsync(string hash)
    {
        if (_collecting.Contains(hash)) return false;
        if (_blobRefs.ContainsKey(hash)) return true;
        _pendingAdds[hash] = _pendingAdds.GetValueOrDefault(hash) + 1;
        try
        {
            return await blobs.ExistsAsync(org, hash);
        }
        finally
        {
            if (--_pendingAdds[hash] == 0) _pendingAdds.Remove(hash);
        }
    }

    /// <summary>Whether the blob is being deleted just now: an upload of it must wait and ask again.</summary>
    public bool IsCollecting(string hash) => _collecting.Contains(hash);

    /// <summary>
    /// Puts an upload's bytes for a record about to be added: false while the blob is being deleted.
    /// Bytes a record already uses are not put again; while the put runs, the blob cannot be collected.
    /// </summary>
    public async Task<bool> PutAsync(string hash, ReadOnlyMemory<byte> content)
    {
        if (_collecting.Contains(hash)) return false;
        if (_blobRefs.ContainsKey(hash)) return true;
        _pendingAdds[hash] = _pendingAdds.GetValueOrDefault(hash) + 1;
        try
        {
            // Off the grain's scheduler: a file store's fsync blocks its thread, and the org keeps answering meanwhile.
            await Task.Run(() => blobs.PutAsync(org, hash, content));
            return true;
        }
        finally
        {
            if (--_pendingAdds[hash] == 0) _pendingAdds.Remove(hash);
        }
    }

    /// <summary>Deletes a blob no record uses and no upload is checking; uploads of it meanwhile are told to put it again.</summary>
    public async Task CollectAsync(string hash)
    {
        if (_blobRefs.ContainsKey(hash) || _pendingAdds.ContainsKey(hash) || !_collecting.Add(hash)) return;
        try
        {
            await blobs.DeleteAsync(org, hash);
        }
        catch (Exception ex)
        {
            // The blob stays, unreferenced; the next orphan sweep takes it.
            LogCollectFailed(logger, ex, org);
        }
        finally
        {
            _collecting.Remove(hash);
        }
    }

    /// <summary>Collects the blobs no record uses that are older than <see cref="OrphanGrace"/>.</summary>
    public async Task CollectOrphansAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow() - OrphanGrace;
        var orphans = new List<string>();
        await foreach (var (hash, stored) in blobs.ListAsync(org, cancellationToken))
        {
            if (stored < cutoff && !_blobRefs.ContainsKey(hash)) orphans.Add(hash);
        }
        foreach (var hash in orphans) await CollectAsync(hash);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not delete an unreferenced blob of org {Org}; a later sweep will.")]
    private static partial void LogCollectFailed(ILogger logger, Exception exception, string org);
}
