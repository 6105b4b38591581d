using System.Net;
using System.Net.Http.Json;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class IssuerLifecycleTests(SqliteApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    [Fact]
    public async Task A_created_issuer_is_read_back_with_the_path_org_and_defaults_for_absent_fields()
    {
        var org = await _client.CreatePlatformAsync();
        var created = await _client.CreateIssuerAsync(org, new { name = "  Acme Academy  ", org = "someone-else" });

        Assert.Equal("Acme Academy", created["name"]!.GetValue<string>());
        Assert.Equal(org, created["org"]!.GetValue<string>());
        Assert.Matches("^[A-Za-z0-9_-]{22}$", created["entityId"]!.GetValue<string>());
        Assert.Empty(created["signatories"]!.AsObject());
        Assert.Null(created["email"]);
        Assert.Null(created["url"]);
        Assert.Null(created["iconImage"]);
        Assert.Null(created["allowed_template_tags"]);

        var read = await (await _client.GetAsync(TestRequests.Issuers(org) + created["entityId"] + "/")).JsonAsync();
        Assert.Equal(created.ToJsonString(), Assert.Single(read.AsArray())!.ToJsonString());
    }

    [Fact]
    public async Task Delete_removes_the_issuer_and_answers_the_status_envelope()
    {
        var org = await _client.CreatePlatformAsync();
        var created = await _client.CreateIssuerAsync(org, new { name = "Gone soon", entityId = "gone" });

        var response = await _client.DeleteAsync(TestRequests.Issuers(org) + "gone/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"status":{"success":true,"description":"Deleted"}}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(TestRequests.Issuers(org) + "gone/")).StatusCode);
        Assert.Equal("gone", created["entityId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Paths_work_with_and_without_the_trailing_slash()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Slash", entityId = "slash" });

        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(TestRequests.Issuers(org).TrimEnd('/'))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(TestRequests.Issuers(org) + "slash")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/api/platforms/{org}")).StatusCode);
        var post = await _client.PostAsJsonAsync(TestRequests.Issuers(org).TrimEnd('/'), new { name = "No slash" });
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
    }
}
