using System.Net;
using Credentials.Grains.Blobs;
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
    public async Task Kept_keys_count_in_the_org_record_bytes_and_still_do_after_a_restart()
    {
        var first = new ApiFactory(backend);
        first.Settings["Limits:MaxOrgRecordBytes"] = "16000";
        string keyedOrg;
        int plain, keyed;
        await using (first)
        {
            var admin = first.AdminClient();
            var plainOrg = await admin.CreatePlatformAsync();
            keyedOrg = await admin.CreatePlatformAsync();
            plain = await FillAsync(admin, plainOrg, keyed: false);
            keyed = await FillAsync(admin, keyedOrg, keyed: true);
        }
        // Each kept key holds its answer, about an issuer's worth: keyed writes fill the org about twice as fast.
        Assert.InRange(keyed, 1, plain * 2 / 3);

        var second = first.Restarted();
        second.Settings["Limits:MaxOrgRecordBytes"] = "16000";
        await using (second)
        {
            var refused = await second.AdminClient().PostAsync(TestRequests.Issuers(keyedOrg), Issuer, NewKey());
            Assert.Equal(HttpStatusCode.Conflict, refused.Status);
            Assert.Contains("urn:credentials:quota-exceeded", refused.Text);
        }
    }

    /// <summary>Creates issuers until the org's record quota refuses one; how many were stored.</summary>
    private static async Task<int> FillAsync(HttpClient admin, string org, bool keyed)
    {
        for (var created = 0; ; created++)
        {
            var answer = keyed ? await admin.PostAsync(TestRequests.Issuers(org), Issuer, NewKey()) : await admin.PostAsync(TestRequests.Issuers(org), Issuer);
            if (answer.Status == HttpStatusCode.Conflict) return created;
            Assert.True(answer.Status == HttpStatusCode.OK && created < 1000, $"{(int)answer.Status} {answer.Text}");
        }
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

    [Fact]
    public async Task A_repeat_sent_while_the_first_upload_is_still_storing_its_bytes_is_409_then_replays_once_it_is_answered()
    {
        var gate = new ControlledBlobStore(hold: true);
        await using var service = new ApiFactory(backend);
        await using var gated = service.WithWebHostBuilder(b => b.ConfigureTestServices(gate.Decorate));
        var admin = gated.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new("Api-Token", ApiFactory.AdminToken);
        var org = await admin.CreatePlatformAsync();
        var key = NewKey();
        Func<HttpContent> upload = LargeUpload;

        var first = admin.PostAsync(Images.ImageRequests.Images(org), upload, key);
        await gate.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        var repeat = await admin.PostAsync(Images.ImageRequests.Images(org), upload, key);
        gate.Open();
        var answered = await first;
        var replay = await admin.PostAsync(Images.ImageRequests.Images(org), upload, key);

        Assert.Equal(HttpStatusCode.Conflict, repeat.Status);
        Assert.Equal(HttpStatusCode.OK, answered.Status);
        replay.AssertReplayOf(answered);
    }

    [Fact]
    public async Task A_5xx_answer_is_not_kept_and_the_repeat_runs_again()
    {
        var store = new ControlledBlobStore(failFirst: true);
        await using var service = new ApiFactory(backend);
        await using var failing = service.WithWebHostBuilder(b => b.ConfigureTestServices(store.Decorate));
        var admin = failing.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new("Api-Token", ApiFactory.AdminToken);
        var org = await admin.CreatePlatformAsync();
        var key = NewKey();
        Func<HttpContent> upload = LargeUpload;

        var unavailable = await admin.PostAsync(Images.ImageRequests.Images(org), upload, key);
        var repeat = await admin.PostAsync(Images.ImageRequests.Images(org), upload, key);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.Status);
        Assert.Equal(HttpStatusCode.OK, repeat.Status);
        Assert.False(repeat.Replayed);
        Assert.Single(await Images.ImageRequests.SearchImagesAsync(admin, org, ""));
    }

    /// <summary>An upload too large to travel with its record: its bytes go through the blob store first.</summary>
    private static readonly byte[] LargePng = Images.SampleImages.PngOfLength(Credentials.Grains.ImageBytes.MaxInlineBytes + 1);

    private static HttpContent LargeUpload() => Images.ImageRequests.Upload(LargePng, "logo.png", "image/png", "Logo");

    /// <summary>
    /// Around the real blob store: holds every put until the test opens it (the first upload is
    /// provably still running), or fails the first put as a store that is down would.
    /// </summary>
    private sealed class ControlledBlobStore(bool hold = false, bool failFirst = false)
    {
        private readonly bool _hold = hold;
        private int _failures = failFirst ? 1 : 0;

        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public void Open() => _open.TrySetResult();

        public void Decorate(IServiceCollection services)
        {
            var inner = services.Last(d => d.ServiceType == typeof(IBlobStore));
            services.AddSingleton<IBlobStore>(sp => new Store((IBlobStore)(inner.ImplementationInstance ?? inner.ImplementationFactory!(sp)), this));
        }

        private sealed class Store(IBlobStore inner, ControlledBlobStore gate) : IBlobStore
        {
            public async Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
            {
                if (Interlocked.Exchange(ref gate._failures, 0) == 1) throw new IOException("The blob store is down.");
                gate._entered.TrySetResult();
                if (gate._hold) await gate._open.Task;
                await inner.PutAsync(org, sha256, content, cancellationToken);
            }

            public Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default) => inner.GetAsync(org, sha256, cancellationToken);
            public Task<Stream?> OpenReadAsync(string org, string sha256, CancellationToken cancellationToken = default) => inner.OpenReadAsync(org, sha256, cancellationToken);
            public Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default) => inner.ExistsAsync(org, sha256, cancellationToken);
            public Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default) => inner.DeleteAsync(org, sha256, cancellationToken);
            public IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, CancellationToken cancellationToken = default) => inner.ListAsync(org, cancellationToken);
        }
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
