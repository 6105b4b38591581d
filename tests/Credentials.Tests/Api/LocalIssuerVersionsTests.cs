using System.Net;
using System.Text.Json.Nodes;
using Credentials.Api.Http;
using Credentials.Grains;
using Credentials.Grains.Issuers;
using Credentials.Tests.Auth;
using Credentials.Tests.Images;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Api;

/// <summary>
/// ADR 0021: in the embedded default (one silo, in this process) a cached issuer page is confirmed
/// against the version the org grain shows in process memory, without a grain call; a write, a
/// deactivation or a failed commit makes the next read ask the grain again.
/// </summary>
public sealed class LocalIssuerVersionsTests
{
    [Fact]
    public async Task A_page_the_local_grain_confirms_takes_no_grain_call_and_a_write_shows_at_once()
    {
        await using var service = new ProbedService();
        var admin = service.Admin();
        var org = await admin.CreatePlatformAsync();
        await admin.CreateIssuersInOrderAsync(org, "One", "Two");
        Assert.True(service.Host.Services.GetRequiredService<LocalIssuerVersions>().Enabled);

        await admin.ListIssuersAsync(org); // fills the page cache
        var before = service.Calls.To<OrgGrain>(org);
        for (var i = 0; i < 5; i++) Assert.Equal(["One", "Two"], Names(await admin.ListIssuersAsync(org)));
        Assert.Equal(before, service.Calls.To<OrgGrain>(org));

        await admin.CreateIssuerAsync(org, new { name = "Three" });
        var afterWrite = service.Calls.To<OrgGrain>(org);
        Assert.Equal(["One", "Two", "Three"], Names(await admin.ListIssuersAsync(org)));
        Assert.True(service.Calls.To<OrgGrain>(org) > afterWrite, "the read after a write asked the grain");
        // The page read after the write is cached at the new version and confirmed locally again.
        await admin.ListIssuersAsync(org);
        var settled = service.Calls.To<OrgGrain>(org);
        Assert.Equal(["One", "Two", "Three"], Names(await admin.ListIssuersAsync(org)));
        Assert.Equal(settled, service.Calls.To<OrgGrain>(org));
    }

    [Fact]
    public async Task A_deactivated_grain_takes_its_version_back()
    {
        await using var service = new ProbedService();
        var admin = service.Admin();
        var org = await admin.CreatePlatformAsync();
        await admin.CreateIssuersInOrderAsync(org, "Only");
        await admin.ListIssuersAsync(org);
        var versions = service.Host.Services.GetRequiredService<LocalIssuerVersions>();
        var page = service.Host.Services.GetRequiredService<IssuerPageCache>().Get(new IssuerPageCache.Key(org, null, 0, 50))
            ?? throw new InvalidOperationException("the first read cached no page");
        Assert.True(versions.IsCurrent(org, page.Version));

        await service.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await ImageRequests.EventuallyAsync(async () => await service.ActivationsOfAsync(org) == 0, "the org grain deactivated", TimeSpan.FromSeconds(30));

        Assert.False(versions.IsCurrent(org, page.Version));
        var before = service.Calls.To<OrgGrain>(org);
        Assert.Equal(["Only"], Names(await admin.ListIssuersAsync(org)));
        Assert.True(service.Calls.To<OrgGrain>(org) > before, "the read asked the new activation");
    }

    [Fact]
    public async Task A_failed_commit_takes_the_version_back_and_its_change_is_never_listed()
    {
        await using var service = new ProbedService();
        var admin = service.Admin();
        var org = await admin.CreatePlatformAsync();
        await admin.CreateIssuersInOrderAsync(org, "Kept");
        await admin.ListIssuersAsync(org);
        var versions = service.Host.Services.GetRequiredService<LocalIssuerVersions>();
        var pages = service.Host.Services.GetRequiredService<IssuerPageCache>();

        // Behind the grain's back the event log's row moves on: the next commit is refused.
        await StorageRows.BumpVersionAsync(service.Factory, $"{org}/events/0");
        var failed = await admin.PostJsonAsync(TestRequests.Issuers(org), """{"name":"Lost","entityId":"lost"}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);

        var cached = pages.Get(new IssuerPageCache.Key(org, null, 0, 50));
        Assert.True(cached is null || !versions.IsCurrent(org, cached.Version), "no page is confirmed from memory storage refused");
        await ImageRequests.EventuallyAsync(async () =>
        {
            var response = await admin.GetAsync(TestRequests.Issuers(org));
            return response.StatusCode == HttpStatusCode.OK
                && Names(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject()).SequenceEqual(["Kept"]);
        }, "the org reloaded without the refused issuer", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Switched_off_nothing_is_ever_current()
    {
        Assert.False(LocalIssuerVersions.Off.Enabled);
        Assert.False(LocalIssuerVersions.Off.IsCurrent("org", 1));
    }

    private static string[] Names(JsonObject page) =>
        page["result"]!["data"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()).ToArray();
}
