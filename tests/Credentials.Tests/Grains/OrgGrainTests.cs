using Credentials.Grains;
using Credentials.Grains.Storage;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Grains;

/// <summary>
/// The org grain on a real TestCluster with the real storage stack, run once per backend. Each
/// test uses its own org, so the tests of one class share a cluster.
/// </summary>
public abstract class OrgGrainTests(ClusterFixture fixture)
{
    protected IOrgGrain NewOrg(out string key)
    {
        key = TestRequests.NewOrg();
        return fixture.Grains.GetGrain<IOrgGrain>(key);
    }

    protected static IssuerInput Named(string name, string? entityId = null) => new(
        Field<string>.Of(name), default, default, default, default, default,
        entityId is null ? default : Field<string>.Of(entityId));

    [Fact]
    public async Task An_org_does_not_exist_until_its_platform_is_created()
    {
        var org = NewOrg(out _);
        Assert.Null(await org.GetPlatform());
        Assert.Equal(OutcomeStatus.OrgNotFound, (await org.CreateIssuer(Named("x"))).Status);
        Assert.Equal(OutcomeStatus.OrgNotFound, (await org.ListIssuers(null, 0, 10)).Status);

        Assert.Equal(OutcomeStatus.Created, (await org.CreatePlatform("Acme")).Status);
        Assert.Equal(OutcomeStatus.Invalid, (await org.CreatePlatform("Again")).Status);
        Assert.Equal("Acme", (await org.GetPlatform())!.Name);
    }

    [Fact]
    public async Task Concurrent_creates_are_all_kept_in_one_creation_order()
    {
        var org = NewOrg(out _);
        await org.CreatePlatform(null);
        var names = Enumerable.Range(0, 300).Select(i => $"issuer {i:D3}").ToArray();
        var created = await Task.WhenAll(names.Select(n => org.CreateIssuer(Named(n))));
        Assert.All(created, o => Assert.Equal(OutcomeStatus.Created, o.Status));

        var page = (await org.ListIssuers(null, 0, 1000)).Value!;
        Assert.Equal(300, page.Count);
        Assert.Equal(names.Order(), page.Items.Select(i => i.Name).Order());
        Assert.Equal(created.Select(o => o.Value!.EntityId).Distinct().Count(), page.Items.Count);
    }

    [Fact]
    public async Task Writes_that_arrive_together_share_a_commit()
    {
        using var meter = new StorageMeter();
        var org = NewOrg(out var key);
        await org.CreatePlatform(null);
        var rowsBefore = meter.Rows(key);

        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => org.CreateIssuer(Named($"burst {i}"))));

        // 400 acknowledged writes; one row per write would be 400. Batches of the same tail chunk
        // collapse into one row write each.
        var rows = meter.Rows(key) - rowsBefore;
        Assert.InRange(rows, 1, 200);
        Assert.Equal(400, (await org.ListIssuers(null, 0, 1)).Value!.Count);
    }

    [Fact]
    public async Task A_write_rewrites_one_bounded_chunk_whatever_the_org_size()
    {
        using var meter = new StorageMeter();
        var small = NewOrg(out var smallKey);
        var large = NewOrg(out var largeKey);
        await small.CreatePlatform(null);
        await large.CreatePlatform(null);
        await Fill(small, 10);
        // 78 full chunks, and under the event log's default cap (10,000), whose trimming would
        // rewrite one more (bounded) row per write.
        await Fill(large, 9_984);

        var (smallRows, smallBytes) = await MeasureOneCreate(meter, small, smallKey);
        var (largeRows, largeBytes) = await MeasureOneCreate(meter, large, largeKey);

        // The issuers' tail chunk and the event log's tail chunk (the write's event, C4).
        Assert.Equal(2, smallRows);
        Assert.Equal(2, largeRows);
        // The tail chunk holds 11 issuers in the small org and 9,984 % 128 + 1 = 1 in the large
        // one; rewriting the whole org would write about 900 times the small org's bytes.
        Assert.True(largeBytes <= smallBytes * 2, $"one write at 9,984 issuers wrote {largeBytes} bytes; at 10 it wrote {smallBytes}.");
        Assert.True(largeBytes < ChunkedCollection<Issuer>.MaxBytesPerChunk);
    }

    [Fact]
    public async Task Every_acknowledged_write_survives_a_restart_of_the_cluster()
    {
        var org = NewOrg(out var key);
        await org.CreatePlatform("Durable");
        var created = await Task.WhenAll(Enumerable.Range(0, 300).Select(i => org.CreateIssuer(Named($"durable {i:D3}"))));
        var ids = created.Select(o => o.Value!.EntityId).ToArray();
        Assert.Equal(OutcomeStatus.Ok, (await org.PatchIssuer(ids[7], new IssuerInput(default, Field<string>.Of("x@example.org"), default, default, default, default, default))).Status);
        Assert.Equal(OutcomeStatus.Ok, (await org.DeleteIssuer(ids[250])).Status);
        var before = (await org.ListIssuers(null, 0, 1000)).Value!;

        await fixture.RestartAsync();

        var after = fixture.Grains.GetGrain<IOrgGrain>(key);
        Assert.Equal("Durable", (await after.GetPlatform())!.Name);
        var page = (await after.ListIssuers(null, 0, 1000)).Value!;
        Assert.Equal(299, page.Count);
        Assert.Equal(before.Items, page.Items, IssuerComparer.Instance);
        Assert.Equal("x@example.org", (await after.GetIssuer(ids[7])).Value!.Email);
        Assert.Equal(OutcomeStatus.NotFound, (await after.GetIssuer(ids[250])).Status);
    }

    private static async Task Fill(IOrgGrain org, int count)
    {
        for (var start = 0; start < count; start += 1000)
        {
            var batch = Enumerable.Range(start, Math.Min(1000, count - start))
                .Select(i => org.CreateIssuer(Named($"Issuer number {i:D5}")));
            await Task.WhenAll(batch);
        }
        Assert.Equal(count, (await org.ListIssuers(null, 0, 1)).Value!.Count);
    }

    private static async Task<(long Rows, long Bytes)> MeasureOneCreate(StorageMeter meter, IOrgGrain org, string key)
    {
        var rows = meter.Rows(key);
        var bytes = meter.Bytes(key);
        Assert.Equal(OutcomeStatus.Created, (await org.CreateIssuer(Named("Issuer number XXXXX"))).Status);
        return (meter.Rows(key) - rows, meter.Bytes(key) - bytes);
    }
}

/// <summary>Issuers are equal when every field is; records compare collections by reference.</summary>
internal sealed class IssuerComparer : IEqualityComparer<Issuer>
{
    public static readonly IssuerComparer Instance = new();

    public bool Equals(Issuer? x, Issuer? y) =>
        x is not null && y is not null
        && (x with { AllowedTemplateTags = null, Signatories = IssuerRulesEmpty }) == (y with { AllowedTemplateTags = null, Signatories = IssuerRulesEmpty })
        && (x.AllowedTemplateTags ?? []).SequenceEqual(y.AllowedTemplateTags ?? [])
        && x.Signatories.OrderBy(kv => kv.Key).SequenceEqual(y.Signatories.OrderBy(kv => kv.Key));

    public int GetHashCode(Issuer obj) => obj.EntityId.GetHashCode();

    private static readonly IReadOnlyDictionary<string, string> IssuerRulesEmpty = new Dictionary<string, string>();
}

[Collection(SerialCollection.Name)]
public sealed class SqliteOrgGrainTests(SqliteClusterFixture fixture) : OrgGrainTests(fixture), IClassFixture<SqliteClusterFixture>;

[Collection(SerialCollection.Name)]
public sealed class PostgreSqlOrgGrainTests(PostgreSqlClusterFixture fixture) : OrgGrainTests(fixture), IClassFixture<PostgreSqlClusterFixture>;
