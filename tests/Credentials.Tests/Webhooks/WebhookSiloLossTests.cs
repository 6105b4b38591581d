using Credentials.Grains;
using Credentials.Tests.Cluster;
using Credentials.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Credentials.Tests.Webhooks;

/// <summary>
/// Deliveries pending when a silo dies go on from the surviving silo (ADR 0016): the cursor row and
/// the wake-up reminder live in the shared storage, so the webhook's grain is activated again on a
/// survivor and delivers every event once, in order.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class WebhookSiloLossTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Deliveries_pending_on_a_killed_silo_arrive_once_and_in_order_from_the_survivor()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.FailWith = 500;
        await TestBackends.MigratePostgresAsync();
        var cluster = await StartClusterAsync();
        try
        {
            var grains = cluster.GrainFactory;
            var org = TestRequests.NewOrg();
            var orgGrain = grains.GetGrain<IOrgGrain>(org);
            Assert.NotNull((await orgGrain.CreatePlatform(null)).Value);
            var created = (await orgGrain.CreateWebhook(receiver.Url(), ["issuer.created", "issuer.deleted"])).Value!;
            var (id, secret) = (created.Webhook.Id, created.Secret);

            var issuers = new List<string>();
            for (var i = 0; i < 4; i++)
                issuers.Add((await orgGrain.CreateIssuer(Issuers.Named($"Issuer {i}"))).Value!.EntityId);
            Assert.True((await orgGrain.DeleteIssuer(issuers[0])).Value);

            // The receiver fails: the first event is being retried, the rest wait behind it.
            await receiver.WaitUntilAsync(r => r.All.Count >= 2, Deadline, "two failed attempts");
            Assert.Empty(receiver.Delivered);

            var delivery = grains.GetGrain<IWebhookDeliveryGrain>($"{org}/{id}");
            var management = grains.GetGrain<IManagementGrain>(0);
            var host = await management.GetActivationAddress(delivery) ?? throw new InvalidOperationException("the delivery grain is not active");
            var victim = cluster.GetActiveSilos().Single(s => s.SiloAddress.Equals(host));
            var orgHost = await management.GetActivationAddress(orgGrain);
            output.WriteLine($"delivery grain on {host}, org grain on {orgHost}; killing {victim.SiloAddress}");
            var attemptsBeforeKill = receiver.All.Count;
            await cluster.KillSiloAsync(victim);
            receiver.FailWith = null;

            // No request comes: only the reminder, now owned by the survivor, can wake delivery.
            await receiver.WaitUntilAsync(r => r.Delivered.Select(d => d.Id).Distinct().Count() >= 5, Deadline, "the five matching events");
            output.WriteLine($"{attemptsBeforeKill} failed attempts before the kill, {receiver.All.Count} requests in all");

            var events = (await orgGrain.ReadEvents(0, 1000)).Value!.Events
                .Where(e => e.Action is "issuer.created" or "issuer.deleted").ToArray();
            Assert.Equal(["issuer.created", "issuer.created", "issuer.created", "issuer.created", "issuer.deleted"], events.Select(e => e.Action));

            // At least once: a retry may repeat an event, but none is missing and the order holds.
            var delivered = receiver.Delivered.DistinctBy(d => d.Id).ToArray();
            Assert.Equal(events.Select(e => e.Id), delivered.Select(d => d.EventId));
            var everySent = receiver.All.Select(r => r.EventId).ToArray();
            Assert.Equal(everySent.Order(), everySent);
            for (var i = 0; i < events.Length; i++)
            {
                Assert.True(WebhookReceiver.IsSigned(delivered[i], secret), "signature");
                Assert.Equal($"{org}:{events[i].Id}", delivered[i].Id);
                var body = delivered[i].Json;
                Assert.Equal(org, body["org"]!.GetValue<string>());
                Assert.Equal(events[i].Action, body["action"]!.GetValue<string>());
                Assert.Equal(events[i].Target.Id, body["target"]!["id"]!.GetValue<string>());
            }
            Assert.All(receiver.Delivered, d => Assert.True(WebhookReceiver.IsSigned(d, secret), "signature"));

            // The survivor delivered, from the row the dead silo wrote: its failed attempts are still in the log.
            var survivor = await management.GetActivationAddress(delivery);
            Assert.NotNull(survivor);
            Assert.NotEqual(host, survivor);
            var attempts = (await orgGrain.ListWebhookAttempts(id)).Value!;
            Assert.Equal(events[^1].Id, attempts[0].EventId);
            Assert.True(attempts[0].Delivered);
            Assert.Contains(attempts, a => a.Status == 500 && a.EventId == events[0].Id);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    /// <summary>Two silos with AdoNet membership and storage in PostgreSQL, as <see cref="AdoNetClusterFixture"/>, delivering quickly.</summary>
    private static async Task<TestCluster> StartClusterAsync()
    {
        var builder = AdoNetClusterFixture.Builder(2);
        builder.Properties["Webhooks:AllowInsecureTargets"] = "true";
        builder.Properties["Webhooks:RetryBaseSeconds"] = "0.1";
        builder.Properties["Webhooks:RetryMaxSeconds"] = "0.5";
        builder.Properties["Webhooks:WakeSeconds"] = "2";
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
