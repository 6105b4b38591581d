using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Credentials.Tests.Auth;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Webhooks;

/// <summary>C5 subscriptions: create (secret once), list, delete, validation, SSRF refusals and access, on the shared service (targets checked).</summary>
[Collection(ApiCollection.Name)]
public sealed class WebhookSubscriptionTests(SqliteApiFixture fixture)
{
    // A public (documentation, TEST-NET-1) address literal: allowed, needs no DNS, reaches nobody.
    private const string PublicTarget = "https://192.0.2.1/hook";

    private static string Webhooks(string org) => $"/api/platforms/{org}/webhooks/";

    [Fact]
    public async Task A_new_webhook_shows_its_secret_once_and_is_listed_without_it()
    {
        var admin = fixture.Factory.AdminClient();
        var org = await admin.CreatePlatformAsync();

        var response = await admin.PostAsJsonAsync(Webhooks(org), new { url = PublicTarget, events = new[] { "issuer.created", "issuer.deleted" } });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.JsonAsync()).AsObject();
        var id = created["id"]!.GetValue<string>();
        Assert.Equal(PublicTarget, created["url"]!.GetValue<string>());
        Assert.Equal(["issuer.created", "issuer.deleted"], created["events"]!.AsArray().Select(e => e!.GetValue<string>()));
        var secret = created["secret"]!.GetValue<string>();
        Assert.StartsWith("whsec_", secret);
        Assert.True(Convert.FromBase64String(secret["whsec_".Length..]).Length >= 24);
        Assert.True(DateTimeOffset.TryParse(created["created"]!.GetValue<string>(), out _));
        Assert.EndsWith($"/webhooks/{id}/", response.Headers.Location!.ToString());

        var listed = await admin.GetAsync(Webhooks(org));
        var text = await listed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.DoesNotContain(secret["whsec_".Length..], text);
        var only = Assert.Single(JsonNode.Parse(text)!.AsArray())!.AsObject();
        Assert.Equal(["id", "url", "events", "created"], only.Select(p => p.Key));
        Assert.Equal(id, only["id"]!.GetValue<string>());

        var deliveries = await admin.GetAsync($"{Webhooks(org)}{id}/deliveries/");
        Assert.Equal(HttpStatusCode.OK, deliveries.StatusCode);
        Assert.Empty((await deliveries.JsonAsync())["deliveries"]!.AsArray());
    }

    [Fact]
    public async Task A_deleted_webhook_is_gone()
    {
        var admin = fixture.Factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var id = await CreateAsync(admin, org);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{Webhooks(org)}{id}/")).StatusCode);

        Assert.Empty((await admin.GetJsonAsync(Webhooks(org))).AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"{Webhooks(org)}{id}/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{Webhooks(org)}{id}/deliveries/")).StatusCode);
    }

    [Theory]
    [InlineData("""{"events":["*"]}""", "url")]
    [InlineData("""{"url":"","events":["*"]}""", "url")]
    [InlineData("""{"url":"/relative","events":["*"]}""", "url")]
    [InlineData("""{"url":"ftp://192.0.2.1/x","events":["*"]}""", "url")]
    [InlineData("""{"url":"http://192.0.2.1/hook","events":["*"]}""", "url")]
    [InlineData("""{"url":"https://user:pw@192.0.2.1/hook","events":["*"]}""", "url")]
    [InlineData("""{"url":"https://192.0.2.1/hook"}""", "events")]
    [InlineData("""{"url":"https://192.0.2.1/hook","events":[]}""", "events")]
    [InlineData("""{"url":"https://192.0.2.1/hook","events":["issuer.exploded"]}""", "events")]
    [InlineData("""{"url":"https://192.0.2.1/hook","events":["*","issuer.created"]}""", "events")]
    public async Task An_invalid_subscription_is_refused_naming_its_field(string body, string field)
    {
        var admin = fixture.Factory.AdminClient();
        var org = await admin.CreatePlatformAsync();

        var response = await admin.PostJsonAsync(Webhooks(org), body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, await response.ErrorFieldsAsync());
        Assert.Empty((await admin.GetJsonAsync(Webhooks(org))).AsArray());
    }

    [Theory]
    [InlineData("""{"url":42,"events":["*"]}""")]
    [InlineData("""{"url":"https://192.0.2.1/","events":"*"}""")]
    [InlineData("""not json""")]
    public async Task A_body_of_the_wrong_shape_is_a_bad_request(string body)
    {
        var admin = fixture.Factory.AdminClient();
        var org = await admin.CreatePlatformAsync();

        var response = await admin.PostJsonAsync(Webhooks(org), body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("https://127.0.0.1/hook")]
    [InlineData("https://10.1.2.3/hook")]
    [InlineData("https://172.16.0.1/hook")]
    [InlineData("https://192.168.1.10/hook")]
    [InlineData("https://169.254.169.254/latest/meta-data")]
    [InlineData("https://100.64.0.1/hook")]
    [InlineData("https://0.0.0.0/hook")]
    [InlineData("https://224.0.0.1/hook")]
    [InlineData("https://[::1]/hook")]
    [InlineData("https://[::]/hook")]
    [InlineData("https://[fe80::1]/hook")]
    [InlineData("https://[fd00::1]/hook")]
    [InlineData("https://[::ffff:127.0.0.1]/hook")]
    [InlineData("https://[::ffff:10.0.0.1]/hook")]
    [InlineData("https://localhost/hook")]
    public async Task A_target_on_a_loopback_private_or_link_local_address_is_refused(string url)
    {
        var admin = fixture.Factory.AdminClient();
        var org = await admin.CreatePlatformAsync();

        var response = await admin.PostAsJsonAsync(Webhooks(org), new { url, events = new[] { "*" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("url", await response.ErrorFieldsAsync());
    }

    [Fact]
    public async Task An_org_holds_a_bounded_number_of_webhooks()
    {
        var admin = fixture.Factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        for (var i = 0; i < Credentials.Grains.Webhooks.WebhookOptions.MaxPerOrg; i++) await CreateAsync(admin, org);

        var response = await admin.PostAsJsonAsync(Webhooks(org), new { url = PublicTarget, events = new[] { "*" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(Credentials.Grains.Webhooks.WebhookOptions.MaxPerOrg, (await admin.GetJsonAsync(Webhooks(org))).AsArray().Count);
    }

    [Fact]
    public async Task An_unknown_org_has_no_webhooks()
    {
        var admin = fixture.Factory.AdminClient();
        var org = TestRequests.NewOrg();

        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync(Webhooks(org))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync(Webhooks(org), new { url = PublicTarget, events = new[] { "*" } })).StatusCode);
    }

    public enum Caller { Anonymous, Student, OtherOrgToken, OtherOrgAdmin, OrgToken, OrgAdmin }

    [Theory]
    [InlineData(Caller.Anonymous, HttpStatusCode.Unauthorized)]
    [InlineData(Caller.Student, HttpStatusCode.Forbidden)]
    [InlineData(Caller.OtherOrgToken, HttpStatusCode.Forbidden)]
    [InlineData(Caller.OtherOrgAdmin, HttpStatusCode.Forbidden)]
    [InlineData(Caller.OrgToken, null)]
    [InlineData(Caller.OrgAdmin, null)]
    public async Task Webhooks_are_for_the_super_admin_and_the_orgs_admins_as_tokens_are(Caller caller, HttpStatusCode? refused)
    {
        var admin = fixture.Factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var other = await admin.CreatePlatformAsync();
        var existing = await CreateAsync(admin, org);
        var client = caller switch
        {
            Caller.Anonymous => fixture.Factory.ClientWith(null, null),
            Caller.Student => fixture.Factory.ClientWith("Bearer", Auth.Credentials.Jwt(org, "student-1")),
            Caller.OtherOrgToken => fixture.Factory.ClientWith("Api-Token", await admin.CreateOrgTokenAsync(other)),
            Caller.OtherOrgAdmin => fixture.Factory.ClientWith("Bearer", Auth.Credentials.Jwt(other, "boss", "admin")),
            Caller.OrgToken => fixture.Factory.ClientWith("Api-Token", await admin.CreateOrgTokenAsync(org)),
            _ => fixture.Factory.ClientWith("Bearer", Auth.Credentials.Jwt(org, "boss", "admin")),
        };

        var statuses = new[]
        {
            (await client.GetAsync(Webhooks(org))).StatusCode,
            (await client.GetAsync($"{Webhooks(org)}{existing}/deliveries/")).StatusCode,
            (await client.PostAsJsonAsync(Webhooks(org), new { url = PublicTarget, events = new[] { "*" } })).StatusCode,
            (await client.DeleteAsync($"{Webhooks(org)}{existing}/")).StatusCode,
        };

        if (refused is { } status) Assert.All(statuses, s => Assert.Equal(status, s));
        else Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Created, HttpStatusCode.NoContent], statuses);
    }

    private static async Task<string> CreateAsync(HttpClient admin, string org)
    {
        var response = await admin.PostAsJsonAsync(Webhooks(org), new { url = PublicTarget, events = new[] { "*" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.JsonAsync())["id"]!.GetValue<string>();
    }
}

internal static class WebhookRequests
{
    public static async Task<JsonNode> GetJsonAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }
}
