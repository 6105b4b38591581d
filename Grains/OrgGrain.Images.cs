using System.Globalization;
using Credentials.Grains.Images;
using Credentials.Grains.Quotas;
using Credentials.Grains.Storage;

namespace Credentials.Grains;

// Image records: the bytes are in the blob store, whose use BlobBookkeeping counts.
public sealed partial class OrgGrain
{
    public const int MaxImagesPerOrg = 1_000_000;
    /// <summary>Image records are small: more of them fit a bounded chunk.</summary>
    public const int ImagesPerChunk = 256;
    /// <summary>Most image ids one search reply looks up, whatever the byte bound would allow.</summary>
    private const int MaxImagesPerReply = 8192;

    private static string ImageKey(ImageRecord image) => image.Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Small uploads' bytes, written in the next commit's transaction before the records using them.</summary>
    private readonly List<IPendingWrite> _imageBlobs = [];

    public Task<Outcome<ImageRecord>> AddImage(ImageUpload upload) => AddImageAsync(upload, null);

    public Task<Outcome<ImageRecord>> AddImageWithBytes(ImageUpload upload, ImageBytes bytes) =>
        bytes.Content.Length == upload.Length && bytes.Content.Length <= ImageBytes.MaxInlineBytes
            ? AddImageAsync(upload, bytes.Content)
            : Task.FromResult(Outcome<ImageRecord>.Invalid("image", $"Bytes sent with the record must be the upload's, at most {ImageBytes.MaxInlineBytes} of them."));

    /// <summary>
    /// Records an upload. Without <paramref name="bytes"/> they must already be in the blob store;
    /// with them, they go in the record's own commit where the backend can (PostgreSQL), else to
    /// the blob store first.
    /// </summary>
    private async Task<Outcome<ImageRecord>> AddImageAsync(ImageUpload upload, byte[]? bytes)
    {
        if (_platform is null) return Outcome<ImageRecord>.OrgNotFound;
        var (name, error) = ImageRules.Name(upload.Name, upload.FileName, upload.Extension);
        if (error is not null) return Outcome<ImageRecord>.Invalid("name", error);
        if (_images.Count >= MaxImagesPerOrg)
            return Outcome<ImageRecord>.Invalid("image", $"This platform already holds the maximum of {MaxImagesPerOrg} images.");

        var hash = upload.Sha256;
        var withCommit = bytes is not null && store.WritesBlobs;
        if (ImageRefusal(NewImage(name!, upload)) is { } early)
        {
            // Bytes sent along were not stored anywhere yet: nothing to collect.
            return bytes is null ? await RefuseImageAsync(hash, early) : Outcome<ImageRecord>.QuotaExceeded(early);
        }
        var stored = withCommit ? !_blobs.IsCollecting(hash)
            : bytes is null ? await _blobs.IsStoredAsync(hash)
            : await _blobs.PutAsync(hash, bytes);
        if (!stored) return new Outcome<ImageRecord>(OutcomeStatus.BlobMissing);

        // Decided again in the turn that adds the record: other writes ran during the await.
        var image = NewImage(name!, upload);
        if (ImageRefusal(image) is { } refusal) return withCommit ? Outcome<ImageRecord>.QuotaExceeded(refusal) : await RefuseImageAsync(hash, refusal);
        // In this turn, so the blob is in the record's batch; bytes a record already uses are stored.
        if (withCommit && !_blobs.IsReferenced(hash)) _imageBlobs.Add(store.BlobWrite(Org, hash, bytes!));
        _images.Add(image, image.Id);
        _imageNames.Add(image.Id, image.Name);
        _usage.AddRecordBytes(RecordSize.Of(image));
        _blobs.Reference(image, +1);
        await CommitChangeAsync(EventActions.ImageCreated, EventTarget.Image(image.Id));
        return new Outcome<ImageRecord>(OutcomeStatus.Created, image);
    }

    /// <summary>The blobs the next commit stores, first in its batch.</summary>
    private IEnumerable<IPendingWrite> TakeImageBlobs()
    {
        if (_imageBlobs.Count == 0) return [];
        var taken = _imageBlobs.ToArray();
        _imageBlobs.Clear();
        return taken;
    }

    public Task<Outcome<bool>> CheckImageRoom(ImageUpload upload)
    {
        if (_platform is null) return Task.FromResult(Outcome<bool>.OrgNotFound);
        var (name, error) = ImageRules.Name(upload.Name, upload.FileName, upload.Extension);
        if (error is not null) return Task.FromResult(Outcome<bool>.Invalid("name", error));
        return Task.FromResult(ImageRefusal(NewImage(name!, upload)) is { } refusal
            ? Outcome<bool>.QuotaExceeded(refusal)
            : new Outcome<bool>(OutcomeStatus.Ok, true));
    }

    private ImageRecord NewImage(string name, ImageUpload upload) =>
        new(_images.NextSeq(), name, upload.Sha256, upload.Extension, upload.Length, upload.Width, upload.Height, clock.GetUtcNow());

    /// <summary>Why this record would not fit; its bytes count only if no record uses them yet.</summary>
    private string? ImageRefusal(ImageRecord image) =>
        _usage.Refusal(RecordSize.Of(image), _blobs.IsReferenced(image.Sha256) ? 0 : image.Length);

    /// <summary>A refused upload's bytes may already be in the store: no record uses them, so they go now.</summary>
    private async Task<Outcome<ImageRecord>> RefuseImageAsync(string hash, string refusal)
    {
        await _blobs.CollectAsync(hash);
        return Outcome<ImageRecord>.QuotaExceeded(refusal);
    }

    public Task<Outcome<ImagePage>> SearchImages(string query, int offset, int limit, long afterId = 0)
    {
        if (_platform is null) return Task.FromResult(Outcome<ImagePage>.OrgNotFound);
        var asked = Math.Min(limit, MaxImagesPerReply);
        var ids = _imageNames.Search(query, offset, asked, afterId);
        var budget = limits.Value.MaxReplyBytes;
        var found = new List<ImageRecord>(ids.Count);
        long bytes = 0;
        foreach (var id in ids)
        {
            _images.TryGet(id.ToString(CultureInfo.InvariantCulture), out var image);
            var size = RecordSize.Of(image);
            if (found.Count > 0 && bytes + size > budget)
            {
                return Task.FromResult(new Outcome<ImagePage>(OutcomeStatus.Ok, new ImagePage(found, found[^1].Id)));
            }
            found.Add(image);
            bytes += size;
        }
        // A full batch short of the limit may have more matches after it.
        long? more = ids.Count == asked && asked < limit && ids.Count > 0 ? ids[^1] : null;
        return Task.FromResult(new Outcome<ImagePage>(OutcomeStatus.Ok, new ImagePage(found, more)));
    }

    public Task<Outcome<ImageRecord>> GetImage(long id)
    {
        if (_platform is null) return Task.FromResult(Outcome<ImageRecord>.OrgNotFound);
        return Task.FromResult(_images.TryGet(id.ToString(CultureInfo.InvariantCulture), out var image)
            ? new Outcome<ImageRecord>(OutcomeStatus.Ok, image)
            : Outcome<ImageRecord>.NotFound);
    }

    public async Task<Outcome<bool>> DeleteImage(long id)
    {
        if (_platform is null) return Outcome<bool>.OrgNotFound;
        var key = id.ToString(CultureInfo.InvariantCulture);
        if (!_images.TryGet(key, out var image)) return Outcome<bool>.NotFound;
        _images.Remove(key);
        _imageNames.Remove(id, LiveImageNames);
        _usage.AddRecordBytes(-RecordSize.Of(image));
        _blobs.Reference(image, -1);
        var renditions = _blobs.IsReferenced(image.Sha256) ? [] : DropRenditions(image.Sha256);
        await CommitChangeAsync(EventActions.ImageDeleted, EventTarget.Image(id));
        // Only once the record's removal is durable may its bytes go.
        if (!_blobs.IsReferenced(image.Sha256)) await _blobs.CollectAsync(image.Sha256);
        foreach (var rendition in renditions) await _blobs.CollectAsync(rendition);
        return new Outcome<bool>(OutcomeStatus.Ok, true);
    }

    private IEnumerable<(long Id, string Name)> LiveImageNames()
    {
        for (var i = 0; i < _images.Count; i++) yield return (_images[i].Id, _images[i].Name);
    }
}
