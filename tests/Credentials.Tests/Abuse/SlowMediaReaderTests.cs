using System.Net;
using Credentials.Api.Apis;
using Credentials.Tests.Images;
using Credentials.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Credentials.Tests.Abuse;

/// <summary>
/// B6: readers that take a large image a few bytes at a time must not each cost the image. Twenty of
/// them holding a 10 MiB image open cost less than two images' worth of heap together, leave no
/// blob stream behind when they go, and the service serves everyone else meanwhile.
/// </summary>
[Collection(SerialCollection.Name)] // measures process-wide memory: nothing else may run
[Trait("Category", "Abuse")]
public abstract class SlowMediaReaderTests(Backend backend, ITestOutputHelper output)
{
    private const int ImageBytes = 10 * 1024 * 1024;
    private const int Readers = 20;

    [Fact]
    public async Task Twenty_slow_readers_of_a_ten_mebibyte_image_hold_less_than_two_images_of_memory()
    {
        await using var service = new ObservedService(backend);
        var org = TestRequests.NewOrg();
        var bytes = MediaStreamingTests.PngLike(ImageBytes, seed: 42);
        var url = MediaApi.PathOf(org, await service.Blobs.PutAsync(org, bytes), "png");
        var client = service.CreateClient();
        // One whole read first, so start-up costs (JIT, pools, connections) are not counted below.
        Assert.Equal(bytes, await client.GetByteArrayAsync(url));
        await ImageRequests.EventuallyAsync(() => Task.FromResult(service.Blobs.OpenStreams(org) == 0), "the first read closed its stream");

        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var responses = new List<HttpResponseMessage>();
        var bodies = new List<Stream>();
        try
        {
            for (var i = 0; i < Readers; i++)
            {
                // A slow reader: headers, then a few bytes, then nothing.
                var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
                responses.Add(response);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(ImageBytes, response.Content.Headers.ContentLength);
                var body = await response.Content.ReadAsStreamAsync();
                bodies.Add(body);
                var first = new byte[100];
                await body.ReadExactlyAsync(first);
                Assert.Equal(bytes[..100], first);
            }
            Assert.Equal(Readers, service.Blobs.OpenStreams(org));

            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var held = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
            output.WriteLine($"{Readers} paused readers of {ImageBytes:N0} B: heap +{held:N0} B, allocated {allocated:N0} B, store read {service.Blobs.BytesRead(org) - ImageBytes:N0} B");

            Assert.True(held < 2L * ImageBytes, $"{Readers} paused readers hold {held:N0} B of heap; one image is {ImageBytes:N0} B.");
            Assert.True(allocated < 2L * ImageBytes, $"{Readers} paused readers allocated {allocated:N0} B; one image is {ImageBytes:N0} B.");
            Assert.True(service.Blobs.BytesRead(org) - ImageBytes < (long)Readers * ImageBytes / 4,
                $"the store was read {service.Blobs.BytesRead(org) - ImageBytes:N0} B ahead of readers that took {Readers * 100} B");

            // Everyone else is served meanwhile.
            Assert.Equal(bytes, await client.GetByteArrayAsync(url));
        }
        finally
        {
            foreach (var body in bodies) await body.DisposeAsync();
            foreach (var response in responses) response.Dispose();
        }

        await ImageRequests.EventuallyAsync(() => Task.FromResult(service.Blobs.OpenStreams(org) == 0),
            "the readers that went away left no blob stream open");
    }
}

public sealed class FileSlowMediaReaderTests(ITestOutputHelper output) : SlowMediaReaderTests(Backend.Sqlite, output);

public sealed class PostgreSqlSlowMediaReaderTests(ITestOutputHelper output) : SlowMediaReaderTests(Backend.PostgreSql, output);
