using Credentials.Grains;
using Credentials.Grains.Storage;

namespace Credentials.Tests.Grains.Storage;

/// <summary>
/// Activation reads every chunk in one round trip; churn is compacted inside normal commits, a
/// bounded amount per commit; a crash at any write of a compacting commit loses and duplicates nothing.
/// </summary>
public sealed class ChunkCompactionTests
{
    private const int Capacity = 8;
    private const string Prefix = "org-c/issuers";

    private static ChunkedCollection<Issuer> NewCollection() => new(Prefix, i => i.EntityId, i => i.Name.Length * 2 + 64, Capacity);

    private static Issuer Issuer(int n) => new($"i{n:D5}", $"Issuer {n}", null, null, null, null, new Dictionary<string, string>());

    private static async Task Persist(FakeGrainStorage storage, ChunkedCollection<Issuer> collection)
    {
        foreach (var write in collection.TakeChanges()) await write.WriteAsync(storage.Store());
    }

    /// <summary>Fills <paramref name="chunks"/> chunks and commits; returns the live ids in creation order.</summary>
    private static async Task<List<string>> Filled(FakeGrainStorage storage, ChunkedCollection<Issuer> collection, int chunks)
    {
        for (var n = 0; n < chunks * Capacity; n++) collection.Add(Issuer(n), collection.NextSeq());
        await Persist(storage, collection);
        return [.. Enumerable.Range(0, chunks * Capacity).Select(n => Issuer(n).EntityId)];
    }

    private static List<string> Ids(ChunkedCollection<Issuer> collection) => [.. Enumerable.Range(0, collection.Count).Select(i => collection[i].EntityId)];

    /// <summary>Every item in every stored row: a key held by two rows shows twice.</summary>
    private static async Task<List<string>> StoredIds(FakeGrainStorage storage) =>
        [.. (await storage.Store().ReadAllAsync<Chunk<Issuer>>(Prefix + "/")).SelectMany(r => r.Value?.Items ?? []).Select(i => i.Value.EntityId)];

    [Theory]
    [InlineData(3)]
    [InlineData(300)]
    public async Task Activation_reads_every_chunk_in_one_round_trip_whatever_their_number(int chunks)
    {
        var storage = new FakeGrainStorage();
        var live = await Filled(storage, NewCollection(), chunks);
        var before = storage.Reads;

        var reloaded = NewCollection();
        await reloaded.LoadAsync(storage.Store());

        Assert.Equal(1, storage.Reads - before);
        Assert.Equal(live, Ids(reloaded));
    }

    [Fact]
    public async Task After_churn_the_rows_follow_the_live_items_and_every_live_item_reloads_once_in_creation_order()
    {
        var storage = new FakeGrainStorage();
        var collection = NewCollection();
        var live = await Filled(storage, collection, 60);
        var random = new Random(12);
        // Delete 90 % in small committed batches, as requests would.
        foreach (var batch in live.OrderBy(_ => random.Next()).Take(live.Count * 9 / 10).Chunk(5))
        {
            foreach (var id in batch) collection.Remove(id);
            await Persist(storage, collection);
        }
        var expected = Ids(collection);
        var seq = collection.NextSeq();

        // Every chunk but the tail at least half full.
        Assert.InRange(storage.Keys(Prefix + "/").Length, 1, expected.Count / (Capacity / 2) + 1);
        Assert.True(collection.CompactionsRun > 0);
        var reloaded = NewCollection();
        Assert.True((await reloaded.LoadAsync(storage.Store())).IsClean);
        Assert.Equal(expected, Ids(reloaded));
        Assert.Equal(expected.Order(StringComparer.Ordinal), await StoredIds(storage) is var stored ? stored.Order(StringComparer.Ordinal) : null);
        Assert.Equal(seq, reloaded.NextSeq());
    }

    [Theory]
    [InlineData(10)]
    [InlineData(200)]
    public async Task A_commit_compacts_a_bounded_amount_whatever_the_number_of_sparse_chunks(int sparseChunks)
    {
        var storage = new FakeGrainStorage();
        var collection = NewCollection();
        var live = await Filled(storage, collection, sparseChunks + 1);
        // Leave every chunk sparse, then commit those deletions.
        foreach (var id in live.Where((_, i) => i % Capacity != 0)) collection.Remove(id);
        await Persist(storage, collection);
        var rows = storage.Keys(Prefix + "/").Length;

        // A commit with one change: one chunk's worth of items moved at most.
        collection.Replace(live[^Capacity], Issuer(0) with { EntityId = live[^Capacity], Name = "changed" });
        var writes = collection.TakeChanges();

        Assert.InRange(writes.Count, 1, 1 + 2 + Capacity);
        foreach (var write in writes) await write.WriteAsync(storage.Store());
        Assert.InRange(rows - storage.Keys(Prefix + "/").Length, 0, Capacity);
    }

    [Fact]
    public async Task Commits_keep_compacting_until_every_chunk_but_the_tail_is_at_least_half_full()
    {
        var storage = new FakeGrainStorage();
        var collection = NewCollection();
        var live = await Filled(storage, collection, 100);
        foreach (var id in live.Where((_, i) => i % Capacity != 0)) collection.Remove(id);

        for (var commit = 0; commit < 100 && collection.HasChanges | commit == 0; commit++) await Persist(storage, collection);
        for (var commit = 0; commit < 100; commit++) await Persist(storage, collection);

        Assert.InRange(storage.Keys(Prefix + "/").Length, 1, 100 / (Capacity / 2) + 1);
        var reloaded = NewCollection();
        await reloaded.LoadAsync(storage.Store());
        Assert.Equal(Ids(collection), Ids(reloaded));
    }

    /// <summary>Builds the same org each time: sparse chunks and a pending commit that only compacts.</summary>
    private static async Task<(FakeGrainStorage Storage, List<string> Live, long NextSeq, int Writes)> CompactingCommitAhead()
    {
        var storage = new FakeGrainStorage();
        var collection = NewCollection();
        var live = await Filled(storage, collection, 12);
        foreach (var id in live.Where((_, i) => i % Capacity >= 2)) collection.Remove(id);
        await Persist(storage, collection);
        // What the next commit writes: moves into the tail, then deletions of emptied rows.
        return (storage, Ids(collection), collection.NextSeq(), collection.TakeChanges().Count);
    }

    [Fact]
    public async Task A_crash_at_any_write_of_a_compacting_commit_loses_nothing_and_duplicates_nothing()
    {
        var (_, _, _, writes) = await CompactingCommitAhead();
        Assert.True(writes >= 2, "the commit should both write the tail and delete an emptied row");

        for (var crashAt = 0; crashAt < writes; crashAt++)
        {
            var (storage, live, nextSeq, _) = await CompactingCommitAhead();
            var collection = NewCollection();
            await collection.LoadAsync(storage.Store());
            var written = 0;
            storage.BeforeWrite = _ => written++ == crashAt ? throw new IOException("crash") : Task.CompletedTask;
            await Assert.ThrowsAsync<IOException>(async () =>
            {
                foreach (var write in collection.TakeChanges()) await write.WriteAsync(storage.Store());
            });
            storage.BeforeWrite = null;

            // What the grain does after a failed commit: reload from storage, then carry on.
            var reloaded = NewCollection();
            await reloaded.LoadAsync(storage.Store());
            Assert.Equal(live, Ids(reloaded));
            Assert.True(reloaded.NextSeq() >= nextSeq);
            await Persist(storage, reloaded);
            Assert.Equal(live.Order(StringComparer.Ordinal), (await StoredIds(storage)).Order(StringComparer.Ordinal));
            var again = NewCollection();
            Assert.True((await again.LoadAsync(storage.Store())).IsClean);
            Assert.Equal(live, Ids(again));
        }
    }

    [Fact]
    public async Task Emptying_the_chunk_that_holds_the_highest_number_never_lets_an_id_be_reused()
    {
        var storage = new FakeGrainStorage();
        // The tail (chunk 3) holds an older counter than chunk 2, as rows behind a gap can; chunk 2's
        // newest item (40) was deleted, so only its counter remembers it.
        storage.Seed($"{Prefix}/0", new Chunk<Issuer>(8, [.. Enumerable.Range(1, 8).Select(n => new ChunkItem<Issuer>(n, Issuer(n)))]));
        storage.Seed($"{Prefix}/2", new Chunk<Issuer>(40, [new ChunkItem<Issuer>(30, Issuer(30))]));
        storage.Seed($"{Prefix}/3", new Chunk<Issuer>(20, [new ChunkItem<Issuer>(20, Issuer(20))]));
        var collection = NewCollection();
        await collection.LoadAsync(storage.Store());
        Assert.Equal(41, collection.NextSeq());

        await Persist(storage, collection);
        Assert.False(storage.Contains($"{Prefix}/2"));

        var reloaded = NewCollection();
        await reloaded.LoadAsync(storage.Store());
        Assert.Equal(41, reloaded.NextSeq());
        Assert.Equal(Ids(collection), Ids(reloaded));
    }
}
