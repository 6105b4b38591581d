using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Credentials.Api.Contracts;
using Credentials.Api.Auth;
using Credentials.Grains;
using Credentials.Grains.Storage;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Auth;

/// <summary>
/// The org directory (B6): which orgs exist, read from the platform rows whenever it activates, so
/// orgs created before it existed, or before a restart, are known; nodes catch up page by page.
/// </summary>
public sealed class OrgDirectoryTests
{
    [Theory]
    [InlineData(Backend.Sqlite)]
    [InlineData(Backend.PostgreSql)]
    public async Task Orgs_created_before_a_restart_are_known_after_it(Backend backend)
    {
        var first = new ApiFactory(backend);
        var admin = first.AdminClient();
        var orgs = new[] { await admin.CreatePlatformAsync(), await admin.CreatePlatformAsync("a_b-c") };
        var tokens = await Task.WhenAll(orgs.Select(org => admin.CreateOrgTokenAsync(org)));
        await first.DisposeAsync();

        // Nothing about the directory survives in memory: what the new process knows it read from storage.
        await using var restarted = first.Restarted();
        for (var i = 0; i < orgs.Length; i++)
        {
            var response = await restarted.ClientWith("Api-Token", tokens[i]).GetAsync(TestRequests.Issuers(orgs[i]));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Theory]
    [InlineData(Backend.Sqlite)]
    [InlineData(Backend.PostgreSql)]
    public async Task Storage_lists_exactly_the_orgs_with_a_platform(Backend backend)
    {
        await using var factory = new ApiFactory(backend);
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync(name: "Listed Academy");
        await admin.CreateIssuerAsync(org, new { name = "Not an org" });
        await admin.CreateOrgTokenAsync(org);
        await using var other = new ApiFactory(backend);
        var elsewhere = await other.AdminClient().CreatePlatformAsync();

        var storage = TestBackends.Create(backend, factory.DataDirectory);
        var listed = await StoredOrgs.ListAsync(storage, factory.ServiceId, CancellationToken.None);

        // Each with its name and creation time, as the platform API shows them.
        var shown = await admin.GetFromJsonAsync<JsonElement>($"/api/platforms/{org}/");
        var platform = Assert.Single(listed);
        Assert.Equal((org, "Listed Academy", shown.GetProperty("created").GetString()),
            (platform.Key, platform.Name, PlatformView.Timestamp(platform.Created)));
        Assert.DoesNotContain(elsewhere, listed.Select(p => p.Key));
    }
}

/// <summary>The directory's paging, on a cluster of its own (registrations here are not real orgs).</summary>
public sealed class OrgDirectoryPagingTests(SqliteClusterFixture cluster) : IClassFixture<SqliteClusterFixture>
{
    [Fact]
    public async Task A_node_catches_up_on_more_orgs_than_one_reply_holds()
    {
        var directory = cluster.Grains.GetGrain<IOrgDirectoryGrain>(0);
        var orgs = Enumerable.Range(0, OrgDirectoryGrain.PageSize + 50).Select(i => $"paged-{i}").ToArray();
        foreach (var chunk in orgs.Chunk(500)) await Task.WhenAll(chunk.Select(org => directory.Register(new Platform(org, org, DateTimeOffset.UnixEpoch))));

        var copy = new OrgDirectoryCache(cluster.Grains, TimeProvider.System);
        Assert.True(await copy.ExistsAsync(orgs[^1]));
        Assert.True(await copy.ExistsAsync(orgs[0]));
        Assert.Equal(orgs.Length, copy.Count);
        Assert.False(await copy.ExistsAsync("never-registered"));
        Assert.Equal(orgs.Length, copy.Count);
    }
}
