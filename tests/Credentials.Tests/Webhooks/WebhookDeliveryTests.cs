using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Credentials.Grains.Webhooks;
using Credentials.Tests.Auth;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Webhooks;

/// <summary>C5 delivery against a receiver the test runs: signed, in order, at least once, through failures and restarts.</summary>
public sealed class WebhookDeliveryTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>A service whose deliveries may go to 127.0.0.1, retry quickly and are woken every 2 s after a restart.</summary>
    private static ApiFactory NewService(Backend backend, bool allowInsecure = true) => WithDeliverySettings(new ApiFactory(backend), allowInsecure);

    internal static ApiFactory WithDeliverySettings(ApiFactory factory, bool allowInsecure)
    {
        factory.Settings["Webhooks:AllowInsecureTargets"] = allowInsecure ? "true" : "false";
        factory.Settings["Webhooks:RetryBaseSeconds"] = "0.1";
        factory.Settings["Webhooks:RetryMaxSeconds"] = "0.5";
        factory.Settings["Webhooks:WakeSeconds"] = "2";
        return factory;
    }

    [Theory]
    [InlineData(Backend.Sqlite)]
    [InlineData(Backend.PostgreSql)]
    public async Task Every_matching_event_arrives_signed_once_and_in_order_through_failures_and_a_restart(Backend backend)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.FailWith = 500;
        var factory = NewService(backend);
        string org, id, secret;
        try
        {
            var admin = factory.AdminClient();
            org = await admin.CreatePlatformAsync();
            await admin.CreateIssuerAsync(org, new { name = "Before the subscription", entityId = "before" });
            (id, secret) = await SubscribeAsync(admin, org, receiver.Url(), "issuer.created", "issuer.deleted");

            await admin.CreateOrgTokenAsync(org, "not-subscribed");
            await admin.CreateIssuersInOrderAsync(org, "One", "Two", "Three");
            Assert.True((await admin.DeleteAsync(TestRequests.Issuer(org, "before"))).IsSuccessStatusCode);

            // The receiver fails: the first matching event is retried, nothing after it is sent.
            await receiver.WaitUntilAsync(r => r.All.Count >= 3, Deadline, "three failed attempts");
            Assert.Single(receiver.All.Select(r => r.EventId).Distinct());
            var log = await admin.GetAsync($"/api/platforms/{org}/webhooks/{id}/deliveries/");
            var attempts = (await log.JsonAsync())["deliveries"]!.AsArray();
            Assert.NotEmpty(attempts);
            Assert.All(attempts, a => Assert.Equal(500, a!["status"]!.GetValue<int>()));
        }
        finally
        {
            await factory.DisposeAsync();
        }

        // Restarted over the same data, and no request comes: the reminder wakes delivery.
        receiver.FailWith = null;
        await using var restarted = WithDeliverySettings(factory.Restarted(), allowInsecure: true);
        _ = restarted.Server;
        await receiver.WaitUntilAsync(r => r.Delivered.Count >= 4, Deadline, "the four matching events");

        var events = (await restarted.AdminClient().GetJsonAsync($"/api/platforms/{org}/events/"))["events"]!.AsArray()
            .Select(e => e!.AsObject()).ToArray();
        var expected = events.Where(e => e["action"]!.GetValue<string>() is "issuer.created" or "issuer.deleted").Skip(1).ToArray();
        Assert.Equal(["issuer.created", "issuer.created", "issuer.created", "issuer.deleted"], expected.Select(e => e["action"]!.GetValue<string>()));

        var delivered = receiver.Delivered;
        Assert.Equal(expected.Select(e => e["id"]!.GetValue<long>()), delivered.Select(d => d.EventId));
        var everySent = receiver.All.Select(r => r.EventId).ToArray();
        Assert.Equal(everySent.Order(), everySent);
        for (var i = 0; i < expected.Length; i++)
        {
            var received = delivered[i];
            Assert.True(WebhookReceiver.IsSigned(received, secret), "signature");
            Assert.Equal($"{org}:{expected[i]["id"]}", received.Id);
            var body = received.Json;
            Assert.Equal(org, body["org"]!.GetValue<string>());
            body.Remove("org");
            Assert.True(JsonNode.DeepEquals(expected[i], body), $"{body} is not {expected[i]}");
        }
        Assert.True(long.TryParse(delivered[0].Timestamp, out var timestamp));
        Assert.InRange(DateTimeOffset.FromUnixTimeSeconds(timestamp), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));

        var after = (await restarted.AdminClient().GetJsonAsync($"/api/platforms/{org}/webhooks/{id}/deliveries/"))["deliveries"]!.AsArray();
        Assert.True(after[0]!["delivered"]!.GetValue<bool>());
        Assert.Equal(204, after[0]!["status"]!.GetValue<int>());
        Assert.Equal(expected[^1]["id"]!.GetValue<long>(), after[0]!["event_id"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_target_that_later_resolves_to_loopback_is_refused_at_delivery()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var resolver = new RebindingResolver();
        await using var factory = NewService(Backend.Sqlite, allowInsecure: false);
        await using var service = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TargetResolver>(resolver)));
        var admin = service.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new("Api-Token", ApiFactory.AdminToken);
        var org = await admin.CreatePlatformAsync();

        var (id, _) = await SubscribeAsync(admin, org, $"https://rebind.test:{receiver.Port}/hook", "*");
        await admin.CreateIssuerAsync(org, new { name = "Trigger" });

        await WaitForAttemptAsync(admin, org, id, a => a["error"]?.GetValue<string>() is { } error && error.Contains("127.0.0.1 is a loopback address"));
        Assert.Empty(receiver.All);
        Assert.True(resolver.Calls >= 2, "resolved at subscription and again at delivery");
    }

    [Fact]
    public async Task A_webhook_failing_past_its_retry_window_gives_up_its_backlog_and_goes_on_with_new_events()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.FailWith = 503;
        await using var factory = NewService(Backend.Sqlite);
        factory.Settings["Webhooks:RetryWindowHours"] = "0.0003"; // about a second
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var (id, _) = await SubscribeAsync(admin, org, receiver.Url(), "issuer.created");
        await admin.CreateIssuersInOrderAsync(org, "Lost one", "Lost two");

        await WaitForAttemptAsync(admin, org, id, a => a["error"]?.GetValue<string>() is { } error && error.StartsWith("gave up"));
        receiver.FailWith = null;
        await admin.CreateIssuerAsync(org, new { name = "After recovery" });

        await receiver.WaitUntilAsync(r => r.Delivered.Count >= 1, Deadline, "the event after the recovery");
        Assert.Equal("After recovery", await NameOfAsync(admin, org, Assert.Single(receiver.Delivered)));
    }

    private static async Task<string> NameOfAsync(HttpClient admin, string org, WebhookReceiver.Received received)
    {
        var entityId = received.Json["target"]!["id"]!.GetValue<string>();
        return (await admin.ReadIssuerAsync(org, entityId))["name"]!.GetValue<string>();
    }

    internal static async Task<(string Id, string Secret)> SubscribeAsync(HttpClient admin, string org, string url, params string[] events)
    {
        var response = await admin.PostAsJsonAsync($"/api/platforms/{org}/webhooks/", new { url, events });
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, json);
        var created = JsonNode.Parse(json)!;
        return (created["id"]!.GetValue<string>(), created["secret"]!.GetValue<string>());
    }

    private static async Task WaitForAttemptAsync(HttpClient admin, string org, string id, Func<JsonObject, bool> matches)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        while (true)
        {
            var log = (await admin.GetJsonAsync($"/api/platforms/{org}/webhooks/{id}/deliveries/"))["deliveries"]!.AsArray();
            if (log.Any(a => matches(a!.AsObject()))) return;
            if (timeout.IsCancellationRequested) Assert.Fail($"No such delivery attempt within {Deadline.TotalSeconds} s: {log.ToJsonString()}");
            await Task.Delay(100, CancellationToken.None);
        }
    }

    /// <summary>DNS rebinding: a public address when the webhook is created, loopback ever after.</summary>
    private sealed class RebindingResolver : TargetResolver
    {
        private int _calls;
        public int Calls => Volatile.Read(ref _calls);

        public override Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
            Task.FromResult(Interlocked.Increment(ref _calls) == 1 ? new[] { IPAddress.Parse("192.0.2.1") } : [IPAddress.Loopback]);
    }
}
