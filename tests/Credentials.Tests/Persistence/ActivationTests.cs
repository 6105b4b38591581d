using Credentials.Grains;
using Credentials.Grains.Storage;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Credentials.Tests.Persistence;

/// <summary>
/// On each real backend: activating an org costs the same few queries whatever its number of
/// chunks, and churn (creates and deletes) is compacted so the rows follow the live issuers, every
/// one of which is still there after a restart.
/// </summary>
public abstract class ActivationTests(CountingClusterFixture fixture)
{
    private IServiceProvider Silo => (fixture.Cluster.Primary as InProcessSiloHandle ?? throw new InvalidOperationException("in-process silos only")).SiloHost.Services;

    private static Issuer Issuer(string id) => new(id, "Issuer " + id, null, null, null, null, new Dictionary<string, string>());

    private static IssuerInput Named(string name) => new(Field<string>.Of(name), default, default, default, default, default, default);

    private static string NewOrg(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Writes an org's rows directly: its platform and <paramref name="chunks"/> full issuer chunks.</summary>
    private async Task<string> SeededOrg(int chunks)
    {
        var org = NewOrg("act");
        var store = Silo.GetRequiredService<ChunkStore>();
        await store.WriteAsync(StoredOrgs.PlatformKey(org), new PlatformRecord(org, org, DateTimeOffset.UnixEpoch), null);
        const int perChunk = ChunkedCollection<Issuer>.MaxItemsPerChunk;
        for (var c = 0; c < chunks; c++)
        {
            var items = Enumerable.Range(c * perChunk + 1, perChunk).Select(n => new ChunkItem<Issuer>(n, Issuer($"i{n}"))).ToArray();
            await store.WriteAsync($"{org}/issuers/{c}", new Chunk<Issuer>(items[^1].Seq, items), null);
        }
        return org;
    }

    [Fact]
    public async Task Activating_an_org_costs_the_same_few_queries_whether_it_holds_2_or_40_chunks()
    {
        var small = await SeededOrg(2);
        var large = await SeededOrg(40);
        var reads = Silo.GetRequiredService<StorageReads>();

        var smallPage = await fixture.Grains.GetGrain<IOrgGrain>(small).ListIssuers(null, 0, 10);
        var largePage = await fixture.Grains.GetGrain<IOrgGrain>(large).ListIssuers(null, 0, 10);

        Assert.Equal(2 * ChunkedCollection<Issuer>.MaxItemsPerChunk, smallPage.Value!.Count);
        Assert.Equal(40 * ChunkedCollection<Issuer>.MaxItemsPerChunk, largePage.Value!.Count);
        // The platform, token and webhook rows, one bulk read per collection (issuers, images,
        // renditions, events, idempotency keys).
        Assert.Equal(8, reads.Of(small));
        Assert.Equal(reads.Of(small), reads.Of(large));
    }

    [Fact]
    public async Task After_churn_the_chunk_rows_follow_the_live_issuers_and_every_one_survives_a_restart()
    {
        var org = NewOrg("churn");
        var grain = fixture.Grains.GetGrain<IOrgGrain>(org);
        await grain.CreatePlatform(null);
        const int created = 12 * ChunkedCollection<Issuer>.MaxItemsPerChunk;
        var ids = new List<string>();
        foreach (var batch in Enumerable.Range(0, created).Chunk(64))
        {
            ids.AddRange((await Task.WhenAll(batch.Select(n => grain.CreateIssuer(Named($"n{n}"))))).Select(o => o.Value!.EntityId));
        }
        var random = new Random(7);
        var deleted = ids.OrderBy(_ => random.Next()).Take(created * 9 / 10).ToHashSet();
        foreach (var batch in deleted.Chunk(16)) await Task.WhenAll(batch.Select(grain.DeleteIssuer));
        var live = ids.Where(id => !deleted.Contains(id)).ToList();

        var rows = await Silo.GetRequiredService<ChunkStore>().ListAsync($"{org}/issuers/");
        Assert.InRange(rows.Count, 1, live.Count / (ChunkedCollection<Issuer>.MaxItemsPerChunk / 2) + 1);

        var before = (await grain.ListIssuers(null, 0, created)).Value!.Items.Select(i => i.EntityId).ToList();
        Assert.Equal(live.Order(StringComparer.Ordinal), before.Order(StringComparer.Ordinal));

        await fixture.RestartAsync();
        var page = await fixture.Grains.GetGrain<IOrgGrain>(org).ListIssuers(null, 0, created);
        Assert.Null(page.Value!.ContinueAfter);
        // The same issuers, once each, in the same creation order.
        Assert.Equal(before, page.Value.Items.Select(i => i.EntityId));
    }
}

public sealed class SqliteActivationTests(SqliteCountingClusterFixture fixture) : ActivationTests(fixture), IClassFixture<SqliteCountingClusterFixture>;

public sealed class PostgreSqlActivationTests(PostgreSqlCountingClusterFixture fixture) : ActivationTests(fixture), IClassFixture<PostgreSqlCountingClusterFixture>;

public abstract class CountingClusterFixture(Backend backend) : ClusterFixture(backend, countReads: true);

public sealed class SqliteCountingClusterFixture() : CountingClusterFixture(Backend.Sqlite);

public sealed class PostgreSqlCountingClusterFixture() : CountingClusterFixture(Backend.PostgreSql);
