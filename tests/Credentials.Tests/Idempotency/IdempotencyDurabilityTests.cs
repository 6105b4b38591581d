using System.Net;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using static Credentials.Tests.Idempotency.IdempotencyRequests;

namespace Credentials.Tests.Idempotency;

/// <summary>C3: keys are kept with the org's state: they survive a restart, and expire after 24 hours.</summary>
public abstract class IdempotencyDurabilityTests(Backend backend)
{
    private static readonly Func<HttpContent> Issuer = Json("""{"name":"Kept across restarts"}""");

    [Fact]
    public async Task A_key_kept_before_a_restart_replays_after_it()
    {
        var first = new ApiFactory(backend);
        string org, key = NewKey();
        Answer answer;
        await using (first)
        {
            var client = first.AdminClient();
            org = await client.CreatePlatformAsync();
            answer = await client.PostAsync(TestRequests.Issuers(org), Issuer, key);
            Assert.Equal(HttpStatusCode.OK, answer.Status);
        }

        await using var second = first.Restarted();
        var admin = second.AdminClient();
        var replay = await admin.PostAsync(TestRequests.Issuers(org), Issuer, key);

        replay.AssertReplayOf(answer);
        Assert.Equal(1, await admin.IssuerCountAsync(org));
    }

    [Fact]
    public async Task A_key_expires_24_hours_after_its_answer_and_the_repeat_then_runs_again()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var service = new ApiFactory(backend);
        await using var clocked = service.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(clock)));
        var admin = clocked.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new("Api-Token", ApiFactory.AdminToken);
        var org = await admin.CreatePlatformAsync();
        var key = NewKey();
        var answer = await admin.PostAsync(TestRequests.Issuers(org), Issuer, key);

        clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        (await admin.PostAsync(TestRequests.Issuers(org), Issuer, key)).AssertReplayOf(answer);
        clock.Advance(TimeSpan.FromSeconds(1));
        var after = await admin.PostAsync(TestRequests.Issuers(org), Issuer, key);

        Assert.Equal(HttpStatusCode.OK, after.Status);
        Assert.False(after.Replayed);
        Assert.Equal(2, await admin.IssuerCountAsync(org));
    }

    /// <summary>A clock the test moves; everything the service times by it (the key's 24 hours) follows.</summary>
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private long _ticks = start.UtcTicks;

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}

public sealed class SqliteIdempotencyDurabilityTests() : IdempotencyDurabilityTests(Backend.Sqlite);

public sealed class PostgreSqlIdempotencyDurabilityTests() : IdempotencyDurabilityTests(Backend.PostgreSql);
