using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Credentials.Grains.Storage;
using Credentials.Tests.Auth;
using Credentials.Tests.Images;
using Credentials.Tests.Infrastructure;
using Jwts = Credentials.Tests.Auth.Credentials;

namespace Credentials.Tests.Events;

/// <summary>
/// C4 over HTTP on the embedded service (the API calls the grain in process), on both backends:
/// one event per acknowledged change with its actor, target and request id; paging; access;
/// ids across a restart; and a failed commit leaving neither the change nor its event.
/// </summary>
public abstract class EventsApiTests(ApiFactory factory)
{
    private readonly ApiFactory _factory = factory;
    private Backend Backend => _factory.Backend;

    [Fact]
    public async Task Every_change_records_exactly_one_event_with_its_actor_target_and_request_id()
    {
        var admin = _factory.AdminClient();
        var org = TestRequests.NewOrg();
        Assert.Equal(HttpStatusCode.Created, (await admin.SendAsAsync("r-platform", HttpMethod.Post, "/api/platforms/", JsonContent.Create(new { key = org }))).StatusCode);
        var created = await admin.SendAsAsync("r-token", HttpMethod.Post, $"/api/platforms/{org}/tokens/", JsonContent.Create(new { name = "ci" }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = (await created.JsonAsync())["token"]!.GetValue<string>();
        var orgToken = _factory.ClientWith("Api-Token", secret);
        var userAdmin = _factory.ClientWith("Bearer", Jwts.Jwt(org, "u-42", "admin"));
        var student = _factory.ClientWith("Bearer", Jwts.Jwt(org, "alice"));

        Assert.Equal(HttpStatusCode.OK, (await orgToken.SendAsAsync("r-create", HttpMethod.Post, TestRequests.Issuers(org), TestRequests.JsonBody("""{"name":"A","entityId":"iss-1"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await student.SendAsAsync("r-student", HttpMethod.Post, TestRequests.Issuers(org, "alice"), TestRequests.JsonBody("""{"name":"B","entityId":"iss-2"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await userAdmin.SendAsAsync("r-put", HttpMethod.Put, TestRequests.Issuer(org, "iss-1"), TestRequests.JsonBody("""{"name":"A2"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await userAdmin.SendAsAsync("r-patch", HttpMethod.Patch, TestRequests.Issuer(org, "iss-1"), TestRequests.JsonBody("""{"email":"a@example.org"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await orgToken.SendAsAsync("r-delete", HttpMethod.Delete, TestRequests.Issuer(org, "iss-2"))).StatusCode);
        var upload = await orgToken.SendAsAsync("r-upload", HttpMethod.Post, ImageRequests.Images(org), ImageRequests.Upload(SampleImages.Png(), "logo.png"));
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        var imageId = (await upload.JsonAsync())["id"]!.GetValue<long>();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.SendAsAsync("r-unupload", HttpMethod.Delete, ImageRequests.Image(org, imageId))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.SendAsAsync("r-revoke", HttpMethod.Delete, $"/api/platforms/{org}/tokens/ci/")).StatusCode);
        // Refused and read-only calls are not changes.
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.SendAsAsync("r-bad", HttpMethod.Post, TestRequests.Issuers(org), TestRequests.JsonBody("""{"name":""}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.SendAsAsync("r-missing", HttpMethod.Delete, TestRequests.Issuer(org, "nope"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(TestRequests.Issuers(org))).StatusCode);

        var page = await admin.EventPageAsync(EventRequests.Events(org));
        var events = page["events"]!.AsArray().Select(e => e!.AsObject()).ToArray();

        Assert.Equal(
        [
            """platform.created by super-admin:null on platform:"ORG" in r-platform""",
            """token.created by super-admin:null on token:"ci" in r-token""",
            """issuer.created by org-token:"ci" on issuer:"iss-1" in r-create""",
            """issuer.created by user:"alice" on issuer:"iss-2" in r-student""",
            """issuer.replaced by user:"u-42" on issuer:"iss-1" in r-put""",
            """issuer.patched by user:"u-42" on issuer:"iss-1" in r-patch""",
            """issuer.deleted by org-token:"ci" on issuer:"iss-2" in r-delete""",
            $"""image.created by org-token:"ci" on image:{imageId} in r-upload""",
            $"""image.deleted by super-admin:null on image:{imageId} in r-unupload""",
            """token.revoked by super-admin:null on token:"ci" in r-revoke""",
        ], events.Select(e => e.Summary().Replace(org, "ORG")));
        Assert.Equal(Enumerable.Range(1, events.Length).Select(i => (long)i), events.Select(e => e["id"]!.GetValue<long>()));
        Assert.Null(page["next"]);
        // The exact shape: nothing else, and never the token's secret (nor its random part).
        Assert.All(events, e => Assert.Equal(["action", "actor", "at", "id", "request_id", "target"], e.Select(p => p.Key).Order(StringComparer.Ordinal)));
        Assert.All(events, e => Assert.EndsWith("Z", e["at"]!.GetValue<string>()));
        Assert.All(events, e => Assert.True(DateTimeOffset.Parse(e["at"]!.GetValue<string>()) > DateTimeOffset.UtcNow.AddMinutes(-5)));
        var body = page.ToJsonString();
        Assert.DoesNotContain(secret, body);
        Assert.DoesNotContain(secret[(secret.IndexOf('.') + 1)..], body);
    }

    [Fact]
    public async Task Pages_follow_after_and_limit_and_next_reads_on_to_the_end()
    {
        var admin = _factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        await admin.CreateIssuersInOrderAsync(org, [.. Enumerable.Range(0, 6).Select(i => $"n{i}")]);

        var first = await admin.EventPageAsync(EventRequests.Events(org) + "?limit=3");
        Assert.Equal([1L, 2, 3], first["events"]!.AsArray().Select(e => e!["id"]!.GetValue<long>()));
        var next = first["next"]!.GetValue<string>();
        Assert.True(Uri.IsWellFormedUriString(next, UriKind.Absolute), next);
        Assert.Contains("after=3", next);
        Assert.Contains("limit=3", next);

        var second = await admin.EventPageAsync(new Uri(next).PathAndQuery);
        Assert.Equal([4L, 5, 6], second["events"]!.AsArray().Select(e => e!["id"]!.GetValue<long>()));
        var third = await admin.EventPageAsync(new Uri(second["next"]!.GetValue<string>()).PathAndQuery);
        Assert.Equal([7L], third["events"]!.AsArray().Select(e => e!["id"]!.GetValue<long>()));
        Assert.Null(third["next"]);

        var afterAll = await admin.EventPageAsync(EventRequests.Events(org) + "?after=7");
        Assert.Empty(afterAll["events"]!.AsArray());
        Assert.Null(afterAll["next"]);
        // Without a trailing slash, with empty values, and with a limit past the maximum (clamped).
        Assert.Equal(7, (await admin.EventPageAsync($"/api/platforms/{org}/events?after=&limit="))["events"]!.AsArray().Count);
        var clamped = await admin.EventPageAsync(EventRequests.Events(org) + "?limit=99999999999&after=2");
        Assert.Equal(5, clamped["events"]!.AsArray().Count);
        Assert.Equal(7, (await admin.AllEventsAsync(org, limit: 2)).Length);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("limit=1.5", "limit")]
    [InlineData("after=-1", "after")]
    [InlineData("after=x", "after")]
    [InlineData("after=1e3", "after")]
    public async Task Bad_paging_values_are_a_400_naming_the_parameter(string query, string field)
    {
        var admin = _factory.AdminClient();
        var org = await admin.CreatePlatformAsync();

        var response = await admin.GetAsync(EventRequests.Events(org) + "?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(field, await response.ErrorFieldsAsync());
    }

    [Fact]
    public async Task Only_the_super_admin_and_the_orgs_admins_may_read_its_events()
    {
        var admin = _factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var other = await admin.CreatePlatformAsync();
        var url = EventRequests.Events(org);

        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _factory.ClientWith("Api-Token", await admin.CreateOrgTokenAsync(org)).GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _factory.ClientWith("Bearer", Jwts.Jwt(org, "boss", "admin")).GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _factory.ClientWith("Bearer", Jwts.Jwt(org, "alice")).GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _factory.ClientWith("Api-Token", await admin.CreateOrgTokenAsync(other)).GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _factory.ClientWith("Bearer", Jwts.Jwt(other, "boss", "admin")).GetAsync(url)).StatusCode);
        var anonymous = await _factory.ClientWith(null, null).GetAsync(url);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.NotEmpty(anonymous.Headers.WwwAuthenticate);
        // A missing org is a 404 only for whoever could read it were it to exist.
        var missing = TestRequests.NewOrg();
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync(EventRequests.Events(missing))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _factory.ClientWith("Bearer", Jwts.Jwt(missing, "alice")).GetAsync(EventRequests.Events(missing))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync(EventRequests.Events("Bad Org"))).StatusCode);
    }

    [Fact]
    public async Task Every_acknowledged_change_has_its_event_after_a_restart_and_ids_go_on_consecutively()
    {
        var first = new ApiFactory(Backend);
        string org;
        JsonObject[] issuers, before;
        await using (first)
        {
            var admin = first.AdminClient();
            org = await admin.CreatePlatformAsync();
            // Concurrent writes share group commits: each acknowledged one must still have its own event.
            issuers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => admin.CreateIssuerAsync(org, new { name = $"c{i}" })));
            before = await admin.AllEventsAsync(org);
        }

        await using var restarted = first.Restarted();
        var again = restarted.AdminClient();
        var after = await again.AllEventsAsync(org);
        Assert.Equal(before.Select(e => e.ToJsonString()), after.Select(e => e.ToJsonString()));
        Assert.Equal(issuers.Select(i => i["entityId"]!.GetValue<string>()).Order(StringComparer.Ordinal),
            after.Where(e => e["action"]!.GetValue<string>() == "issuer.created").Select(e => e["target"]!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal));

        await again.CreateIssuerAsync(org, new { name = "after restart" });
        var all = await again.AllEventsAsync(org);
        Assert.Equal(Enumerable.Range(1, 42).Select(i => (long)i), all.Select(e => e["id"]!.GetValue<long>()));
    }

    [Fact]
    public async Task A_commit_that_fails_leaves_neither_the_change_nor_its_event()
    {
        var admin = _factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        await admin.CreateIssuerAsync(org, new { name = "kept" });

        // Behind the grain's back, the event log's row moves on: the next commit's write of it is
        // refused (a version conflict) after the issuer's chunk was written in the same batch.
        await StorageRows.BumpVersionAsync(_factory, $"{org}/events/0");
        var failed = await admin.PostJsonAsync(TestRequests.Issuers(org), """{"name":"lost","entityId":"lost"}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);

        // The grain reloads from storage: the issuer is not there, and nor is an event for it.
        await ImageRequests.EventuallyAsync(async () => (await admin.GetAsync(TestRequests.Issuer(org, "lost"))).StatusCode == HttpStatusCode.NotFound,
            "the org reloaded without the refused issuer", TimeSpan.FromSeconds(30));
        var events = await admin.AllEventsAsync(org);
        Assert.Equal(["platform.created", "issuer.created"], events.Select(e => e["action"]!.GetValue<string>()));
        Assert.DoesNotContain(events, e => e["target"]!["id"]!.ToJsonString() == "\"lost\"");

        // The next change gets the next id: none was used by the refused one.
        await admin.CreateIssuerAsync(org, new { name = "next", entityId = "lost" });
        Assert.Equal([1L, 2, 3], (await admin.AllEventsAsync(org)).Select(e => e["id"]!.GetValue<long>()));
    }
}

/// <summary>One embedded service per backend for the class; each test uses its own orgs.</summary>
public abstract class EventsServiceFixture(Backend backend) : IAsyncLifetime
{
    public ApiFactory Factory { get; } = new(backend);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}

public sealed class SqliteEventsServiceFixture() : EventsServiceFixture(Backend.Sqlite);

public sealed class PostgreSqlEventsServiceFixture() : EventsServiceFixture(Backend.PostgreSql);

public sealed class SqliteEventsApiTests(SqliteEventsServiceFixture fixture) : EventsApiTests(fixture.Factory), IClassFixture<SqliteEventsServiceFixture>;

public sealed class PostgreSqlEventsApiTests(PostgreSqlEventsServiceFixture fixture) : EventsApiTests(fixture.Factory), IClassFixture<PostgreSqlEventsServiceFixture>;
