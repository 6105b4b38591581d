using System.Diagnostics;
using System.Net;
using Credentials.Grains;
using Credentials.Grains.Blobs;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Credentials.Tests.Images;

/// <summary>
/// The media cache of client-mode API nodes (ADR 0017): a PostgreSQL TestCluster and two API hosts
/// in client mode. A node serves a hot blob from memory, and drops it within
/// <c>Media:DeletionStaleness</c> of its deletion through the other node.
/// </summary>
public sealed class ClientMediaCacheTests(PostgreSqlClusterFixture cluster) : TwoApiNodes(cluster), IClassFixture<PostgreSqlClusterFixture>
{
    private static readonly TimeSpan Staleness = TimeSpan.FromSeconds(2);

    protected override void Configure(ApiFactory node) => node.Settings["Media:DeletionStaleness"] = Staleness.ToString();

    private static async Task WaitUntilCurrentAsync(ApiFactory node)
    {
        var follower = node.Services.GetRequiredService<BlobDeletionFollower>();
        var deadline = Stopwatch.StartNew();
        while (!follower.IsCurrent)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "the node never caught up with the deletion feed");
            await Task.Delay(50);
        }
    }

    private Task DeleteRowAsync(string org, string hash) => MediaChecks.DeleteBlobRowAsync(Fixture.Cluster.Options.ServiceId, org, hash);

    [Fact]
    public async Task A_client_mode_node_serves_a_hot_blob_from_memory()
    {
        var admin1 = Node1.AdminClient();
        var anonymous2 = Node2.CreateClient();
        await WaitUntilCurrentAsync(Node2);
        var org = await admin1.CreatePlatformAsync();
        var bytes = SampleImages.Png(5, 3, 11);
        var path = (await admin1.UploadImageAsync(org, bytes)).MediaPath();
        Assert.Equal(bytes, await (await anonymous2.GetAsync(path)).Content.ReadAsByteArrayAsync());

        await DeleteRowAsync(org, MediaChecks.HashOf(path));

        var again = await anonymous2.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(bytes, await again.Content.ReadAsByteArrayAsync());
        // Node 1 never read it, so it asks the store, which no longer has it.
        Assert.Equal(HttpStatusCode.NotFound, (await Node1.CreateClient().GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task An_image_deleted_through_one_node_is_a_404_on_the_other_within_the_staleness_bound()
    {
        var admin1 = Node1.AdminClient();
        var anonymous2 = Node2.CreateClient();
        await WaitUntilCurrentAsync(Node2);
        var org = await admin1.CreatePlatformAsync();
        var image = await admin1.UploadImageAsync(org, SampleImages.Png(6, 3, 12));
        Assert.Equal(HttpStatusCode.OK, (await anonymous2.GetAsync(image.MediaPath())).StatusCode);
        var cache = (CachedBlobStore)Node2.Services.GetRequiredService<IBlobStore>();
        Assert.Equal(1, cache.CachedCount);

        Assert.Equal(HttpStatusCode.NoContent, (await admin1.DeleteAsync(ImageRequests.Image(org, image.Id()))).StatusCode);
        var deletedAt = Stopwatch.StartNew();

        var gone = await MediaChecks.MediaGoneAsync(anonymous2, image.MediaPath(), deletedAt, Staleness);
        Assert.True(gone < Staleness, $"still served {gone} after the delete");
        Assert.Equal(0, cache.CachedCount);
    }

    [Fact]
    public async Task A_node_empties_its_cache_when_the_feed_starts_a_new_epoch()
    {
        var admin1 = Node1.AdminClient();
        await WaitUntilCurrentAsync(Node2);
        var org = await admin1.CreatePlatformAsync();
        var path = (await admin1.UploadImageAsync(org, SampleImages.Png(7, 3, 13))).MediaPath();
        Assert.Equal(HttpStatusCode.OK, (await Node2.CreateClient().GetAsync(path)).StatusCode);
        var cache = (CachedBlobStore)Node2.Services.GetRequiredService<IBlobStore>();
        Assert.Equal(1, cache.CachedCount);

        // The feed forgets what it held (as when its silo dies); the nodes cannot tell what they
        // missed, so they forget every blob. Collection needs the feed idle between two polls.
        var deadline = Stopwatch.StartNew();
        while (cache.CachedCount > 0)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "the cache was never emptied");
            await Fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
            await Task.Delay(100);
        }
        Assert.Equal(HttpStatusCode.OK, (await Node2.CreateClient().GetAsync(path)).StatusCode);
    }
}

/// <summary>Media checks shared with the local-cluster tests.</summary>
public static class MediaChecks
{
    /// <summary>Deletes a blob's row behind the service's back: only a cache can still serve it.</summary>
    public static async Task DeleteBlobRowAsync(string serviceId, string org, string hash)
    {
        await using var connection = new NpgsqlConnection(TestBackends.PostgresConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("DELETE FROM credentials_blobs WHERE service_id = @s AND org = @o AND sha256 = @h", connection);
        command.Parameters.AddWithValue("s", serviceId);
        command.Parameters.AddWithValue("o", org);
        command.Parameters.AddWithValue("h", hash);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    /// <summary>
    /// GETs the media until it is a 404 (deadline: five times the bound); returns when the request
    /// that first got the 404 was sent, so a slow answer on a busy machine is not counted as staleness.
    /// </summary>
    public static async Task<TimeSpan> MediaGoneAsync(HttpClient client, string path, Stopwatch since, TimeSpan bound)
    {
        while (since.Elapsed < bound * 5)
        {
            var sent = since.Elapsed;
            var status = (await client.GetAsync(path)).StatusCode;
            if (status == HttpStatusCode.NotFound) return sent;
            Assert.Equal(HttpStatusCode.OK, status);
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"{path} was still served {since.Elapsed} after its image was deleted");
    }

    public static string HashOf(string mediaPath) => Path.GetFileNameWithoutExtension(mediaPath);
}

/// <summary>The feed grain's paging and epochs, in a TestCluster.</summary>
public sealed class BlobDeletionFeedTests(SqliteClusterFixture cluster) : IClassFixture<SqliteClusterFixture>
{
    [Fact]
    public async Task A_follower_gets_every_deletion_once_in_order_and_a_stranger_epoch_is_told_to_start_over()
    {
        var feed = cluster.Grains.GetGrain<IBlobDeletionFeedGrain>(0);
        var start = await feed.Since(Guid.Empty, 0);
        Assert.False(start.Complete);
        Assert.Empty(start.Items);

        var org = TestRequests.NewOrg();
        var count = BlobDeletionFeedGrain.PageSize + 10;
        for (var i = 0; i < count; i++) await feed.Deleted(org, $"h{i}");

        var seen = new List<string>();
        var (epoch, last) = (start.Epoch, start.Last);
        BlobDeletions page;
        do
        {
            page = await feed.Since(epoch, last);
            Assert.True(page.Complete);
            seen.AddRange(page.Items.Select(item => item.Sha256));
            last = page.Last;
        }
        while (last < page.Head);

        Assert.Equal(Enumerable.Range(0, count).Select(i => $"h{i}"), seen);
        Assert.Empty((await feed.Since(epoch, last)).Items);
        var stranger = await feed.Since(Guid.NewGuid(), last);
        Assert.False(stranger.Complete);
        Assert.Equal(page.Head, stranger.Last);
    }
}
