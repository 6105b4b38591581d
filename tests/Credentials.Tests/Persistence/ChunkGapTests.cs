using Credentials.Grains;
using Credentials.Grains.Storage;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Credentials.Tests.Persistence;

/// <summary>
/// An org whose chunk rows have a gap (chunk 1 missing, chunk 2 present, as the old group commit
/// could leave them) activates on each real backend with every row loaded, and nothing is written
/// on the gap (here compaction empties the sparse chunk 0 into the tail, chunk 2). Org keys with
/// '_' check that the listing matches a prefix literally.
/// </summary>
public abstract class ChunkGapTests(ClusterFixture fixture)
{
    private ChunkStore Store => (fixture.Cluster.Primary as InProcessSiloHandle ?? throw new InvalidOperationException("in-process silos only"))
        .SiloHost.Services.GetRequiredService<ChunkStore>();

    private static Issuer Issuer(string id) => new(id, "Issuer " + id, null, null, null, null, new Dictionary<string, string>());

    private static Chunk<Issuer> ChunkOf(params (long Seq, string Id)[] items) =>
        new(items.Max(i => i.Seq), items.Select(i => new ChunkItem<Issuer>(i.Seq, Issuer(i.Id))).ToArray());

    [Fact]
    public async Task An_org_activates_past_a_missing_chunk_and_keeps_every_issuer_behind_it()
    {
        var key = "gap_" + Guid.NewGuid().ToString("N")[..10];
        // A neighbour whose key the prefix would match if '_' were a wildcard.
        var neighbour = key.Replace('_', 'x');
        var store = Store;
        await store.WriteAsync($"{key}/platform", new PlatformRecord(key, key, DateTimeOffset.UnixEpoch), null);
        await store.WriteAsync($"{key}/issuers/0", ChunkOf((1, "a"), (2, "b")), null);
        await store.WriteAsync($"{key}/issuers/2", ChunkOf((5, "e")), null);
        await store.WriteAsync($"{neighbour}/issuers/1", ChunkOf((1, "not-mine")), null);

        var org = fixture.Grains.GetGrain<IOrgGrain>(key);
        var page = await org.ListIssuers(null, 0, 100);

        Assert.Equal(["a", "b", "e"], page.Value!.Items.Select(i => i.EntityId));
        Assert.Equal(OutcomeStatus.Created, (await org.CreateIssuer(Named("f"))).Status);
        Assert.Equal(["Issuer a", "Issuer b", "Issuer e", "f"], (await org.ListIssuers(null, 0, 100)).Value!.Items.Select(i => i.Name));
        // Nothing landed on the gap: the commit compacted the sparse chunk 0 into the tail, chunk 2.
        Assert.Equal([$"{key}/issuers/2"], await store.ListAsync($"{key}/issuers/"));
    }

    private static IssuerInput Named(string name) => new(Field<string>.Of(name), default, default, default, default, default, default);
}

public sealed class SqliteChunkGapTests(SqliteClusterFixture fixture) : ChunkGapTests(fixture), IClassFixture<SqliteClusterFixture>;

public sealed class PostgreSqlChunkGapTests(PostgreSqlClusterFixture fixture) : ChunkGapTests(fixture), IClassFixture<PostgreSqlClusterFixture>;
