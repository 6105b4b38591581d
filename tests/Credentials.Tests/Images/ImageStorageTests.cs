using Credentials.Api.Images;
using System.Net;
using System.Text.Json.Nodes;
using Credentials.Grains.Blobs;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Images;

/// <summary>
/// Image records and their bytes across restarts, on both backends (files beside SQLite; PostgreSQL):
/// bytes are stored once per org and content, removed with the last record that uses them, served
/// identically after a restart, and ids are never reused.
/// </summary>
public abstract class ImageStorageTests(Backend backend)
{
    /// <summary>The org's blobs as the service's own blob store lists them.</summary>
    private static async Task<string[]> BlobsAsync(ApiFactory factory, string org)
    {
        var store = factory.Services.GetRequiredService<IBlobStore>();
        var hashes = new List<string>();
        await foreach (var (sha256, _) in store.ListAsync(org)) hashes.Add(sha256);
        if (factory.Backend == Backend.Sqlite)
        {
            // Nothing else lies in the org's folder either: no temporary files, no second copies.
            Assert.Equal(hashes.Order(), ImageRequests.BlobFiles(factory, org).Select(Path.GetFileName).Order());
        }
        return hashes.ToArray();
    }

    private static string HashOf(JsonObject image) => Path.GetFileNameWithoutExtension(new Uri(image.Url()).AbsolutePath);

    [Fact]
    public async Task Media_bytes_are_identical_after_a_restart()
    {
        var first = new ApiFactory(backend);
        string org;
        var uploaded = new List<(JsonObject Image, byte[] Bytes, string Type)>();
        await using (first)
        {
            var admin = first.AdminClient();
            org = await admin.CreatePlatformAsync();
            foreach (var (format, _, type) in ImageInspectorTests.Formats.Select(r => ((string)r[0], (string)r[1], (string)r[2])))
            {
                var bytes = ImageInspectorTests.Sample(format);
                uploaded.Add((await admin.UploadImageAsync(org, bytes, name: "kept " + format), bytes, type));
            }
        }

        await using var second = first.Restarted();
        var anonymous = second.CreateClient();
        foreach (var (image, bytes, type) in uploaded)
        {
            var media = await anonymous.GetAsync(image.MediaPath());
            Assert.Equal(HttpStatusCode.OK, media.StatusCode);
            Assert.Equal(type, media.Content.Headers.ContentType?.MediaType);
            Assert.Equal(bytes, await media.Content.ReadAsByteArrayAsync());
        }
        var found = await second.AdminClient().SearchImagesAsync(org, "kept");
        Assert.Equal(uploaded.Select(u => u.Image.ToJsonString()), found.Select(f => f.ToJsonString()));
    }

    [Fact]
    public async Task Ids_keep_increasing_and_are_never_reused_after_deleting_the_newest_and_restarting()
    {
        var first = new ApiFactory(backend);
        string org;
        long newest;
        await using (first)
        {
            var admin = first.AdminClient();
            org = await admin.CreatePlatformAsync();
            await admin.UploadImageAsync(org, SampleImages.Png(seed: 1));
            newest = (await admin.UploadImageAsync(org, SampleImages.Png(seed: 2))).Id();
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(ImageRequests.Image(org, newest))).StatusCode);
            var afterDelete = (await admin.UploadImageAsync(org, SampleImages.Png(seed: 3))).Id();
            Assert.True(afterDelete > newest);
            newest = afterDelete;
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(ImageRequests.Image(org, newest))).StatusCode);
        }

        await using var second = first.Restarted();
        var next = await second.AdminClient().UploadImageAsync(org, SampleImages.Png(seed: 4));

        Assert.True(next.Id() > newest, $"id {next.Id()} reuses or precedes the deleted {newest}");
        Assert.Equal(HttpStatusCode.NotFound, (await second.AdminClient().GetAsync(ImageRequests.Image(org, newest))).StatusCode);
    }

    [Fact]
    public async Task Identical_bytes_are_stored_once_and_removed_with_the_last_image_using_them()
    {
        await using var factory = new ApiFactory(backend);
        var admin = factory.AdminClient();
        var anonymous = factory.CreateClient();
        var org = await admin.CreatePlatformAsync();
        var bytes = SampleImages.Png(seed: 42);

        var first = await admin.UploadImageAsync(org, bytes, "first.png");
        var second = await admin.UploadImageAsync(org, bytes, "second.png", "image/gif");
        var other = await admin.UploadImageAsync(org, SampleImages.Png(seed: 43), "other.png");

        Assert.NotEqual(first.Id(), second.Id());
        Assert.Equal(first.Url(), second.Url());
        Assert.Equal([HashOf(first), HashOf(other)], (await BlobsAsync(factory, org)).Order());

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(ImageRequests.Image(org, first.Id()))).StatusCode);
        Assert.Equal(bytes, await anonymous.GetByteArrayAsync(second.Url()));
        Assert.Equal(2, (await BlobsAsync(factory, org)).Length);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(ImageRequests.Image(org, second.Id()))).StatusCode);
        await ImageRequests.EventuallyAsync(
            async () => (await anonymous.GetAsync(second.Url())).StatusCode == HttpStatusCode.NotFound,
            "the bytes no image uses any more are gone");
        Assert.Equal([HashOf(other)], await BlobsAsync(factory, org));
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(other.Url())).StatusCode);
    }

    [Fact]
    public async Task Uploading_bytes_again_after_they_were_removed_stores_them_again()
    {
        await using var factory = new ApiFactory(backend);
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var bytes = SampleImages.Jpeg(seed: 7);
        var gone = await admin.UploadImageAsync(org, bytes);
        await admin.DeleteAsync(ImageRequests.Image(org, gone.Id()));
        await ImageRequests.EventuallyAsync(async () => (await BlobsAsync(factory, org)).Length == 0, "the blob is removed");

        var back = await admin.UploadImageAsync(org, bytes);

        Assert.Equal(gone.Url(), back.Url());
        Assert.Equal(bytes, await factory.CreateClient().GetByteArrayAsync(back.Url()));
    }

    [Fact]
    public async Task The_same_bytes_in_two_orgs_are_two_blobs_that_live_and_die_apart()
    {
        await using var factory = new ApiFactory(backend);
        var admin = factory.AdminClient();
        var anonymous = factory.CreateClient();
        var a = await admin.CreatePlatformAsync();
        var b = await admin.CreatePlatformAsync();
        var bytes = SampleImages.WebP(seed: 5);
        var inA = await admin.UploadImageAsync(a, bytes);
        var inB = await admin.UploadImageAsync(b, bytes);

        await admin.DeleteAsync(ImageRequests.Image(a, inA.Id()));

        await ImageRequests.EventuallyAsync(async () => (await anonymous.GetAsync(inA.Url())).StatusCode == HttpStatusCode.NotFound, "a's copy is gone");
        Assert.Equal(bytes, await anonymous.GetByteArrayAsync(inB.Url()));
        Assert.Single(await BlobsAsync(factory, b));
    }

    [Fact]
    public async Task Fifty_parallel_uploads_of_the_same_bytes_make_fifty_records_and_one_blob()
    {
        await using var factory = new ApiFactory(backend);
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var bytes = SampleImages.Gif();

        var uploads = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => admin.UploadImageAsync(org, bytes, name: $"same {i}")));

        Assert.Equal(50, uploads.Select(u => u.Id()).Distinct().Count());
        Assert.Single(uploads.Select(u => u.Url()).Distinct());
        Assert.Single(await BlobsAsync(factory, org));
    }

    [Fact]
    public async Task Parallel_deletes_and_uploads_of_the_same_bytes_never_leave_a_record_without_bytes()
    {
        await using var factory = new ApiFactory(backend);
        var admin = factory.AdminClient();
        var anonymous = factory.CreateClient();
        var org = await admin.CreatePlatformAsync();
        var bytes = SampleImages.Png(seed: 77);
        var existing = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => admin.UploadImageAsync(org, bytes)));

        // Every delete may be the one that drops the last reference while uploads of the same bytes arrive.
        var deletes = existing.Select(e => admin.DeleteAsync(ImageRequests.Image(org, e.Id())));
        var uploads = Enumerable.Range(0, 20).Select(_ => admin.UploadImageAsync(org, bytes));
        await Task.WhenAll(deletes.Cast<Task>().Concat(uploads));

        var left = await admin.SearchImagesAsync(org, "");
        Assert.Equal(20, left.Length);
        Assert.Equal(bytes, await anonymous.GetByteArrayAsync(left[0].Url()));
        Assert.Single(await BlobsAsync(factory, org));
    }

    [Fact]
    public async Task The_index_never_records_an_image_whose_bytes_the_store_does_not_hold()
    {
        await using var factory = new ApiFactory(backend);
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var grain = factory.Services.GetRequiredService<IGrainFactory>().GetGrain<Credentials.Grains.IOrgGrain>(org);
        var bytes = SampleImages.Png(seed: 99);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

        var outcome = await grain.AddImage(new Credentials.Grains.ImageUpload("no bytes", "x.png", hash, "png", bytes.Length, 4, 3));

        Assert.Equal(Credentials.Grains.OutcomeStatus.BlobMissing, outcome.Status);
        Assert.Empty(await admin.SearchImagesAsync(org, ""));
    }

    [Fact]
    public async Task Bytes_stored_without_a_record_as_a_crash_would_leave_them_are_taken_up_by_the_next_upload()
    {
        await using var factory = new ApiFactory(backend);
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var bytes = SampleImages.Png(seed: 98);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        await factory.Services.GetRequiredService<IBlobStore>().PutAsync(org, hash, bytes);
        Assert.Empty(await admin.SearchImagesAsync(org, ""));

        var image = await admin.UploadImageAsync(org, bytes);

        Assert.Equal(hash, HashOf(image));
        Assert.Equal([hash], await BlobsAsync(factory, org));
        Assert.Equal(bytes, await factory.CreateClient().GetByteArrayAsync(image.Url()));
    }

    [Fact]
    public async Task Two_services_over_the_same_database_keep_their_image_bytes_apart()
    {
        var first = new ApiFactory(backend);
        var org = TestRequests.NewOrg();
        var bytes = SampleImages.Png(seed: 1234);
        JsonObject kept;
        await using (first)
        {
            var admin = first.AdminClient();
            await admin.CreatePlatformAsync(org);
            kept = await admin.UploadImageAsync(org, bytes);
        }
        await using (var other = new ApiFactory(backend, first.DataDirectory))
        {
            var admin = other.AdminClient();
            await admin.CreatePlatformAsync(org);
            var same = await admin.UploadImageAsync(org, bytes);
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(ImageRequests.Image(org, same.Id()))).StatusCode);
        }

        await using var restarted = first.Restarted();

        Assert.Single(await restarted.AdminClient().SearchImagesAsync(org, ""));
        Assert.Equal(bytes, await restarted.CreateClient().GetByteArrayAsync(kept.MediaPath()));
    }

    [Fact]
    public async Task A_deleted_image_stays_deleted_after_a_restart_and_its_bytes_stay_gone()
    {
        var first = new ApiFactory(backend);
        string org;
        JsonObject kept, deleted;
        await using (first)
        {
            var admin = first.AdminClient();
            org = await admin.CreatePlatformAsync();
            kept = await admin.UploadImageAsync(org, SampleImages.Png(seed: 1), name: "kept");
            deleted = await admin.UploadImageAsync(org, SampleImages.Png(seed: 2), name: "deleted");
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(ImageRequests.Image(org, deleted.Id()))).StatusCode);
        }

        await using var second = first.Restarted();
        var anonymous = second.CreateClient();

        Assert.Equal(["kept"], (await second.AdminClient().SearchImagesAsync(org, "")).Select(i => i.Name()));
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(deleted.MediaPath())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(kept.MediaPath())).StatusCode);
        Assert.Equal([HashOf(kept)], await BlobsAsync(second, org));
    }
}

public sealed class SqliteImageStorageTests() : ImageStorageTests(Backend.Sqlite);

public sealed class PostgreSqlImageStorageTests() : ImageStorageTests(Backend.PostgreSql);
