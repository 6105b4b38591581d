using System.Net;
using System.Net.Http.Headers;
using Credentials.Tests.Infrastructure;
using Npgsql;

namespace Credentials.Tests.Images;

/// <summary>
/// Media through the cache in a whole service, on both blob stores: a cached image is served
/// again without the store, an image deleted through the API is a 404 even when it was cached,
/// concurrent first requests open the store once, and the cache stays within its bound.
/// </summary>
public abstract class CachedMediaTests(ObservedService service)
{
    private readonly HttpClient _admin = Admin(service);
    private readonly HttpClient _anonymous = service.CreateClient();

    private static HttpClient Admin(ObservedService service)
    {
        var client = service.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Token", ApiFactory.AdminToken);
        return client;
    }

    private async Task<(string Org, System.Text.Json.Nodes.JsonObject Image, byte[] Bytes)> UploadAsync(int seed = 0)
    {
        var org = await _admin.CreatePlatformAsync();
        var bytes = SampleImages.Png(4 + seed, 3, seed);
        return (org, await _admin.UploadImageAsync(org, bytes), bytes);
    }

    [Fact]
    public async Task A_cached_image_is_served_again_with_its_headers_without_asking_the_store()
    {
        var (org, image, bytes) = await UploadAsync();
        var first = await _anonymous.GetAsync(image.MediaPath());
        var calls = service.Blobs.Calls(org);

        for (var i = 0; i < 5; i++)
        {
            var again = await _anonymous.GetAsync(image.MediaPath());
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(bytes, await again.Content.ReadAsByteArrayAsync());
            Assert.Equal(first.Headers.ETag, again.Headers.ETag);
            Assert.Equal(first.Headers.CacheControl, again.Headers.CacheControl);
            Assert.Equal("image/png", again.Content.Headers.ContentType!.MediaType);
        }
        Assert.Equal(calls, service.Blobs.Calls(org));
    }

    [Fact]
    public async Task An_image_deleted_through_the_api_is_a_404_even_when_it_was_cached()
    {
        var (org, image, _) = await UploadAsync(seed: 1);
        Assert.Equal(HttpStatusCode.OK, (await _anonymous.GetAsync(image.MediaPath())).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync(ImageRequests.Image(org, image.Id()))).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await _anonymous.GetAsync(image.MediaPath())).StatusCode);
    }

    [Fact]
    public async Task Concurrent_first_requests_for_one_image_open_the_store_once()
    {
        var (org, image, bytes) = await UploadAsync(seed: 2);
        var calls = service.Blobs.Calls(org);

        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => _anonymous.GetAsync(image.MediaPath())));

        foreach (var response in responses) Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(calls + 1, service.Blobs.Calls(org));
    }

    [Fact]
    public async Task Media_past_the_cache_bound_is_served_while_the_cache_stays_within_it()
    {
        var org = await _admin.CreatePlatformAsync();
        var cache = service.Cache!;
        // Blobs of about 30 KB each: more than twice the cache's 256 KiB in all.
        for (var i = 0; i < 20; i++)
        {
            var bytes = MediaStreamingTests.PngLike(30_000 + i, seed: i);
            var hash = await service.Blobs.PutAsync(org, bytes);
            var response = await _anonymous.GetAsync(Credentials.Api.Apis.MediaApi.PathOf(org, hash, "png"));
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
            Assert.InRange(cache.CachedBytes, 0, ObservedService.MediaCacheBytes);
        }
        Assert.InRange(cache.CachedCount, 1, (int)(ObservedService.MediaCacheBytes / 30_000));
    }
}

public sealed class FileCachedMediaService() : ObservedServiceFixture(Backend.Sqlite, underMediaCache: true);

public sealed class PostgreSqlCachedMediaService() : ObservedServiceFixture(Backend.PostgreSql, underMediaCache: true);

public sealed class FileCachedMediaTests(FileCachedMediaService fixture) : CachedMediaTests(fixture.Service), IClassFixture<FileCachedMediaService>;

public sealed class PostgreSqlCachedMediaTests(PostgreSqlCachedMediaService fixture) : CachedMediaTests(fixture.Service), IClassFixture<PostgreSqlCachedMediaService>;

/// <summary>
/// Uploads whose blob writes are batched: every acknowledged upload is there after a restart, on
/// both backends; on PostgreSQL a batch that fails fails every upload in it (503) and stores no record.
/// </summary>
public abstract class BatchedUploadTests(Backend backend)
{
    [Fact]
    public async Task Every_upload_acknowledged_under_concurrency_is_served_after_a_restart()
    {
        var first = new ApiFactory(backend);
        string org;
        var images = new List<(string Path, byte[] Bytes)>();
        await using (first)
        {
            var client = first.AdminClient();
            org = await client.CreatePlatformAsync();
            var samples = Enumerable.Range(0, 40).Select(i => SampleImages.Png(4 + i, 3, i)).ToArray();
            var uploaded = await Task.WhenAll(samples.Select(bytes => client.UploadImageAsync(org, bytes)));
            images.AddRange(uploaded.Select((image, i) => (image.MediaPath(), samples[i])));
        }

        await using var second = first.Restarted();
        var admin = second.AdminClient();
        Assert.Equal(40, (await admin.SearchImagesAsync(org, "")).Length);
        foreach (var (path, bytes) in images)
        {
            Assert.Equal(bytes, await (await admin.GetAsync(path)).Content.ReadAsByteArrayAsync());
        }
    }
}

public sealed class FileBatchedUploadTests() : BatchedUploadTests(Backend.Sqlite);

public sealed class PostgreSqlBatchedUploadTests() : BatchedUploadTests(Backend.PostgreSql)
{
    [Fact]
    public async Task A_failed_blob_batch_answers_503_to_every_upload_in_it_and_records_none_of_them()
    {
        await using var factory = new ApiFactory(Backend.PostgreSql);
        var client = factory.AdminClient();
        var healthy = await client.CreatePlatformAsync();
        var doomed = await client.CreatePlatformAsync();
        await client.UploadImageAsync(healthy, SampleImages.Png(3, 3, 99));
        // The database refuses every blob of one org: a batch holding any of them fails whole.
        var constraint = "refuse_" + doomed.Replace('-', '_');
        await ExecuteAsync($"ALTER TABLE credentials_blobs ADD CONSTRAINT {constraint} CHECK (org <> '{doomed}') NOT VALID");
        try
        {
            var uploads = Enumerable.Range(0, 24).Select(i => (Org: i % 2 == 0 ? doomed : healthy, Bytes: SampleImages.Png(5 + i, 4, i))).ToArray();
            var responses = await Task.WhenAll(uploads.Select(u => client.PostAsync(ImageRequests.Images(u.Org), ImageRequests.Upload(u.Bytes))));

            for (var i = 0; i < uploads.Length; i++)
            {
                var status = responses[i].StatusCode;
                if (uploads[i].Org == doomed) Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                else Assert.True(status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"upload {i}: {status}");
                if (status == HttpStatusCode.ServiceUnavailable) Assert.NotNull(responses[i].Headers.RetryAfter);
            }
            Assert.Empty(await client.SearchImagesAsync(doomed, ""));
            // Exactly the acknowledged uploads of the healthy org (and its first) are recorded.
            var acknowledged = responses.Where((r, i) => uploads[i].Org == healthy && r.StatusCode == HttpStatusCode.OK).Count();
            Assert.Equal(acknowledged + 1, (await client.SearchImagesAsync(healthy, "")).Length);
        }
        finally
        {
            await ExecuteAsync($"ALTER TABLE credentials_blobs DROP CONSTRAINT IF EXISTS {constraint}");
        }
    }

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestBackends.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
