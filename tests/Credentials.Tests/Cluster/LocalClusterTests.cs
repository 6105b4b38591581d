using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Credentials.Tests.Auth;
using Credentials.Tests.Images;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Cluster;

/// <summary>
/// Separate processes as in production: <c>deploy/local-cluster.sh</c> runs two silos and two API
/// nodes (Orleans clients) that find each other through the PostgreSQL membership table. Nothing is
/// shared but the database, so what node 2 knows it learnt through the cluster.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed class LocalClusterTests(LocalClusterFixture cluster)
{
    private const string OnePixelPng = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

    [Fact]
    public async Task Every_node_is_ready_and_each_silo_is_an_active_member()
    {
        foreach (var uri in new[] { cluster.ApiNode(1), cluster.ApiNode(2), cluster.SiloProbe(1), cluster.SiloProbe(2) })
        {
            using var client = new HttpClient { BaseAddress = uri };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        }
    }

    [Fact]
    public async Task An_issuer_created_on_node_1_is_listed_on_node_2()
    {
        using var node1 = cluster.Client(1);
        using var node2 = cluster.Client(2);
        var org = await node1.CreatePlatformAsync();
        var created = await node1.CreateIssuerAsync(org, new { name = "Seen from both nodes" });

        var listed = await node2.ListIssuersAsync(org);

        Assert.Equal(created["entityId"]!.GetValue<string>(), listed["result"]!["data"]![0]!["entityId"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_token_revoked_on_node_1_is_refused_on_node_2_within_5_seconds()
    {
        using var admin1 = cluster.Client(1);
        var org = await admin1.CreatePlatformAsync();
        var token = await admin1.CreateOrgTokenAsync(org, "short-lived");
        using var user2 = cluster.Client(2, "Api-Token", token);
        Assert.Equal(HttpStatusCode.OK, (await user2.GetAsync(TestRequests.Issuers(org))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin1.DeleteAsync($"/api/platforms/{org}/tokens/short-lived/")).StatusCode);
        var revokedAt = Stopwatch.StartNew();

        HttpStatusCode status;
        do
        {
            status = (await user2.GetAsync(TestRequests.Issuers(org))).StatusCode;
            if (status == HttpStatusCode.Unauthorized) break;
            await Task.Delay(100);
        }
        while (revokedAt.Elapsed < TimeSpan.FromSeconds(6));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.True(revokedAt.Elapsed < TimeSpan.FromSeconds(5), $"refused only after {revokedAt.Elapsed}");
    }

    [Fact]
    public async Task Media_uploaded_on_node_1_is_served_by_node_2()
    {
        using var node1 = cluster.Client(1);
        var org = await node1.CreatePlatformAsync();
        var png = Convert.FromBase64String(OnePixelPng);
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(png) { Headers = { ContentType = new("image/png") } }, "image", "pixel.png" },
            { new StringContent("pixel"), "name" },
        };
        var response = await node1.PostAsync($"/api/credentials/orgs/{org}/users/admin/images/", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var media = new Uri(JsonNode.Parse(body)!["image"]!.GetValue<string>());

        using var anonymous2 = new HttpClient { BaseAddress = cluster.ApiNode(2) };
        var served = await anonymous2.GetAsync(media.PathAndQuery);

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("image/png", served.Content.Headers.ContentType?.MediaType);
        Assert.Equal(png, await served.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Node_2_serves_hot_media_from_memory_and_stops_within_2_seconds_of_its_delete_on_node_1()
    {
        using var admin1 = cluster.Client(1);
        using var anonymous2 = new HttpClient { BaseAddress = cluster.ApiNode(2) };
        var org = await admin1.CreatePlatformAsync();

        // Cached: still served after its row is gone behind the service's back.
        var kept = await admin1.UploadImageAsync(org, SampleImages.Png(5, 3, 21));
        Assert.Equal(HttpStatusCode.OK, (await anonymous2.GetAsync(kept.MediaPath())).StatusCode);
        await MediaChecks.DeleteBlobRowAsync(cluster.ClusterId, org, MediaChecks.HashOf(kept.MediaPath()));
        Assert.Equal(HttpStatusCode.OK, (await anonymous2.GetAsync(kept.MediaPath())).StatusCode);

        // Deleted through node 1 (grain on either silo process): node 2 hears of it from the feed.
        var image = await admin1.UploadImageAsync(org, SampleImages.Png(6, 3, 22));
        Assert.Equal(HttpStatusCode.OK, (await anonymous2.GetAsync(image.MediaPath())).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin1.DeleteAsync(ImageRequests.Image(org, image.Id()))).StatusCode);
        var deletedAt = Stopwatch.StartNew();
        var gone = await MediaChecks.MediaGoneAsync(anonymous2, image.MediaPath(), deletedAt, TimeSpan.FromSeconds(2));
        Assert.True(gone < TimeSpan.FromSeconds(2), $"still served {gone} after the delete");
    }
}
