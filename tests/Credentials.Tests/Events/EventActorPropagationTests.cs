using System.Net;
using System.Net.Http.Json;
using Credentials.Grains;
using Credentials.Tests.Infrastructure;
using Jwts = Credentials.Tests.Auth.Credentials;

namespace Credentials.Tests.Events;

/// <summary>
/// The actor and request id reach the org grain across the client-to-silo hop: an API node in
/// client mode in front of a TestCluster on real sockets (the in-process call is covered by
/// <see cref="EventsApiTests"/>), and a cluster client setting <see cref="RequestActor"/> itself.
/// </summary>
public sealed class EventActorPropagationTests(SqliteClusterFixture cluster) : IClassFixture<SqliteClusterFixture>, IAsyncLifetime
{
    private ApiFactory _node = null!;

    public Task InitializeAsync()
    {
        _node = new ApiFactory(serviceId: cluster.Cluster.Options.ServiceId);
        _node.Settings["Orleans:Mode"] = "Client";
        _node.Settings["Orleans:ClusterId"] = cluster.Cluster.Options.ClusterId;
        _node.Settings["Orleans:Gateways"] = string.Join(",", cluster.Cluster.Silos.Select(s => s.GatewayAddress.Endpoint.ToString()));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task An_api_node_in_client_mode_hands_the_caller_and_request_id_to_the_silo()
    {
        var admin = _node.AdminClient();
        var org = TestRequests.NewOrg();
        Assert.Equal(HttpStatusCode.Created, (await admin.SendAsAsync("hop-1", HttpMethod.Post, "/api/platforms/", JsonContent.Create(new { key = org }))).StatusCode);
        var user = _node.ClientWith("Bearer", Jwts.Jwt(org, "u-7", "admin"));
        Assert.Equal(HttpStatusCode.OK, (await user.SendAsAsync("hop-2", HttpMethod.Post, TestRequests.Issuers(org), TestRequests.JsonBody("""{"name":"x","entityId":"e1"}"""))).StatusCode);

        var events = await admin.AllEventsAsync(org);

        Assert.Equal(
            [$"""platform.created by super-admin:null on platform:"{org}" in hop-1""", """issuer.created by user:"u-7" on issuer:"e1" in hop-2"""],
            events.Select(e => e.Summary()));
    }

    [Fact]
    public async Task A_cluster_client_call_carries_the_actor_it_sets_and_one_without_is_the_platforms_own()
    {
        var org = cluster.Grains.GetGrain<IOrgGrain>(TestRequests.NewOrg());
        await org.CreatePlatform(null);
        RequestActor.Set(new EventActor(EventActor.OrgToken, "deploy-bot"), "client-req");
        try
        {
            await org.CreateToken("made-by-bot");
        }
        finally
        {
            RequestContext.Clear();
        }

        var page = (await org.ReadEvents(0, 10)).Value!;

        Assert.Equal(
        [
            (EventActions.PlatformCreated, EventActor.Admin, (string?)null),
            (EventActions.TokenCreated, new EventActor(EventActor.OrgToken, "deploy-bot"), "client-req"),
        ], page.Events.Select(e => (e.Action, e.Actor, e.RequestId)));
        Assert.False(page.More);
    }
}
