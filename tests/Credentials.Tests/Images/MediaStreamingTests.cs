using System.Net;
using System.Text;
using Credentials.Api.Apis;
using Credentials.Grains.Blobs;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Images;

/// <summary>
/// B3 and B6 on both blob stores: media is streamed from the store in bounded reads, a
/// revalidation by ETag never touches the store, HEAD reads only what tells the type, and a store
/// failure is a 503 before the first byte and an aborted response after it.
/// </summary>
public abstract class MediaStreamingTests(ObservedService service)
{
    private readonly ObservedBlobStore _blobs = service.Blobs;
    private readonly HttpClient _client = service.CreateClient();

    /// <summary>A PNG signature and random bytes after it: all media looks at is the signature.</summary>
    public static byte[] PngLike(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        SampleImages.PngSignature.CopyTo(bytes, 0);
        return bytes;
    }

    private async Task<(string Org, string Url, byte[] Bytes)> StoreAsync(int length, int seed = 1)
    {
        var org = TestRequests.NewOrg();
        var bytes = PngLike(length, seed);
        var hash = await _blobs.PutAsync(org, bytes);
        return (org, MediaApi.PathOf(org, hash, "png"), bytes);
    }

    private Task NoStreamLeftOpenAsync(string org) =>
        ImageRequests.EventuallyAsync(() => Task.FromResult(_blobs.OpenStreams(org) == 0), "every blob stream of the org is closed");

    [Fact]
    public async Task A_blob_of_many_read_chunks_is_served_byte_for_byte_with_its_length()
    {
        var (org, url, bytes) = await StoreAsync(3 * 1024 * 1024 + 12_345);
        Assert.True(bytes.Length > 10 * BlobStores.ReadChunkBytes);

        var response = await _client.GetAsync(url);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        await NoStreamLeftOpenAsync(org);
    }

    [Fact]
    public async Task A_304_for_the_urls_own_etag_asks_nothing_of_the_blob_store()
    {
        var (org, url, _) = await StoreAsync(100_000);
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("If-None-Match", $"\"{Path.GetFileNameWithoutExtension(url)}\"");

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Equal($"\"{Path.GetFileNameWithoutExtension(url)}\"", response.Headers.ETag?.Tag);
        Assert.Contains(response.Headers.CacheControl!.Extensions, e => e.Name == "immutable");
        Assert.Equal(0, _blobs.Calls(org));
        // The same store does see the plain GET: the count above is not blind.
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(url)).StatusCode);
        Assert.Equal(1, _blobs.Calls(org));
    }

    [Fact]
    public async Task Head_reads_only_the_first_bytes_of_the_blob()
    {
        var (org, url, bytes) = await StoreAsync(3 * 1024 * 1024);

        var head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
        Assert.Equal("image/png", head.Content.Headers.ContentType!.MediaType);
        Assert.InRange(_blobs.BytesRead(org), 1, 64);
        await NoStreamLeftOpenAsync(org);
    }

    [Fact]
    public async Task An_svg_with_more_white_space_before_its_first_tag_than_one_read_is_still_an_svg()
    {
        var org = TestRequests.NewOrg();
        var bytes = Encoding.UTF8.GetBytes(new string(' ', BlobStores.ReadChunkBytes + 1000) + "\n")
            .Concat(SampleImages.Svg()).ToArray();
        var hash = await _blobs.PutAsync(org, bytes);

        var svg = await _client.GetAsync(MediaApi.PathOf(org, hash, "svg"));
        var png = await _client.GetAsync(MediaApi.PathOf(org, hash, "png"));

        Assert.Equal(HttpStatusCode.OK, svg.StatusCode);
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType!.MediaType);
        Assert.Equal(bytes, await svg.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, png.StatusCode);
    }

    [Theory]
    [InlineData("open")]
    [InlineData("first read")]
    public async Task A_store_failure_before_the_first_byte_is_a_503_problem_with_retry_after(string failing)
    {
        var (org, url, _) = await StoreAsync(100_000);
        if (failing == "open") _blobs.FailOpening(org);
        else _blobs.FailReadingAfter(org, 0);

        var response = await _client.GetAsync(url);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(503, (int)(await response.ProblemAsync())["status"]!);
        Assert.Null(response.Headers.ETag);
        await NoStreamLeftOpenAsync(org);
    }

    [Fact]
    public async Task A_store_failure_mid_stream_aborts_the_response_rather_than_ending_it_short()
    {
        var (org, url, _) = await StoreAsync(3 * 1024 * 1024);
        _blobs.FailReadingAfter(org, 1);

        using var response = await _client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await using var body = await response.Content.ReadAsStreamAsync();
        var failure = await Assert.ThrowsAnyAsync<IOException>(() => body.CopyToAsync(Stream.Null));
        Assert.Contains("aborted", failure.InnerException?.Message ?? failure.Message);
        await NoStreamLeftOpenAsync(org);
    }

    [Fact]
    public async Task A_client_that_goes_away_mid_stream_leaves_no_blob_stream_open()
    {
        var (org, url, bytes) = await StoreAsync(3 * 1024 * 1024);

        using (var response = await _client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead))
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            var first = new byte[1000];
            await body.ReadExactlyAsync(first);
            Assert.Equal(bytes[..1000], first);
        }

        await NoStreamLeftOpenAsync(org);
        Assert.True(_blobs.BytesRead(org) < bytes.Length, "the rest of the blob was not read for nobody");
    }
}

public sealed class FileMediaService() : ObservedServiceFixture(Backend.Sqlite);

public sealed class PostgreSqlMediaService() : ObservedServiceFixture(Backend.PostgreSql);

public sealed class FileMediaStreamingTests(FileMediaService fixture) : MediaStreamingTests(fixture.Service), IClassFixture<FileMediaService>;

public sealed class PostgreSqlMediaStreamingTests(PostgreSqlMediaService fixture) : MediaStreamingTests(fixture.Service), IClassFixture<PostgreSqlMediaService>;
