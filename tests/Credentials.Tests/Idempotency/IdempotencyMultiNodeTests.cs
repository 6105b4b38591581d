using System.Net;
using Credentials.Tests.Infrastructure;
using static Credentials.Tests.Idempotency.IdempotencyRequests;

namespace Credentials.Tests.Idempotency;

/// <summary>C3 across API nodes: two API hosts in client mode in front of one cluster; the org grain is the one place keys live.</summary>
public sealed class IdempotencyMultiNodeTests(SqliteClusterFixture cluster) : TwoApiNodes(cluster), IClassFixture<SqliteClusterFixture>
{
    [Fact]
    public async Task A_retry_sent_to_another_API_node_replays_the_first_answer_and_a_different_body_there_is_422()
    {
        var org = await Node1.AdminClient().CreatePlatformAsync();
        var url = TestRequests.Issuers(org);
        var key = NewKey();
        var body = Json("""{"name":"Seen by every node"}""");

        var first = await Node1.AdminClient().PostAsync(url, body, key);
        var retry = await Node2.AdminClient().PostAsync(url, body, key);
        var other = await Node2.AdminClient().PostAsync(url, Json("""{"name":"Other"}"""), key);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        retry.AssertReplayOf(first);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.Status);
        Assert.Equal(1, await Node2.AdminClient().IssuerCountAsync(org));
    }

    [Fact]
    public async Task A_platform_created_with_a_key_on_one_node_replays_on_the_other()
    {
        var key = NewKey();
        var body = Json($$"""{"key":"{{TestRequests.NewOrg()}}"}""");

        var first = await Node1.AdminClient().PostAsync("/api/platforms/", body, key);
        var retry = await Node2.AdminClient().PostAsync("/api/platforms/", body, key);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        retry.AssertReplayOf(first);
    }
}
