using Credentials.Grains;
using Credentials.Grains.Storage;

namespace Credentials.Tests.Grains.Storage;

public sealed class ChunkedCollectionTests
{
    private readonly FakeGrainStorage _storage = new();
    private ChunkStore Store => _storage.Store();

    private static ChunkedCollection<Issuer> NewCollection() =>
        new("org-a/issuers", i => i.EntityId, i => i.Name.Length * 2 + 64);

    private static Issuer Issuer(string id) => new(id, "Issuer " + id, null, null, null, null, new Dictionary<string, string>());

    private async Task Persist(ChunkedCollection<Issuer> collection)
    {
        foreach (var write in collection.TakeChanges()) await write.WriteAsync(Store);
    }

    [Fact]
    public async Task Sequence_numbers_are_never_reused_after_the_newest_item_is_deleted_and_state_reloaded()
    {
        var collection = NewCollection();
        foreach (var id in new[] { "a", "b", "c" }) collection.Add(Issuer(id), collection.NextSeq());
        collection.Remove("c");
        await Persist(collection);

        var reloaded = NewCollection();
        await reloaded.LoadAsync(Store);

        Assert.Equal(2, reloaded.Count);
        Assert.Equal(4, reloaded.NextSeq());
    }

    [Fact]
    public async Task Items_reload_in_creation_order_across_many_chunks()
    {
        var collection = NewCollection();
        var count = ChunkedCollection<Issuer>.MaxItemsPerChunk * 3 + 5;
        for (var i = 0; i < count; i++) collection.Add(Issuer($"i{i:D4}"), collection.NextSeq());
        collection.Remove("i0003");
        collection.Replace("i0200", Issuer("i0200") with { Name = "renamed" });
        await Persist(collection);

        var reloaded = NewCollection();
        await reloaded.LoadAsync(Store);

        Assert.Equal(count - 1, reloaded.Count);
        var ids = Enumerable.Range(0, reloaded.Count).Select(i => reloaded[i].EntityId).ToArray();
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.True(reloaded.TryGet("i0200", out var renamed));
        Assert.Equal("renamed", renamed.Name);
        Assert.False(reloaded.TryGet("i0003", out _));
    }

    [Fact]
    public async Task Chunks_written_at_a_larger_capacity_load_whole_and_take_new_items_after_a_capacity_cut()
    {
        // Image chunks were 512 items before OrgGrain.ImagesPerChunk became 256: their rows stay.
        var before = new ChunkedCollection<Issuer>("org-a/issuers", i => i.EntityId, _ => 100, maxItemsPerChunk: 512);
        for (var i = 0; i < 700; i++) before.Add(Issuer($"i{i:D4}"), before.NextSeq());
        await Persist(before);

        var after = new ChunkedCollection<Issuer>("org-a/issuers", i => i.EntityId, _ => 100, maxItemsPerChunk: 256);
        await after.LoadAsync(Store);
        Assert.Equal(700, after.Count);
        for (var i = 700; i < 1000; i++) after.Add(Issuer($"i{i:D4}"), after.NextSeq());
        after.Remove("i0001");
        await Persist(after);

        var reloaded = new ChunkedCollection<Issuer>("org-a/issuers", i => i.EntityId, _ => 100, maxItemsPerChunk: 256);
        await reloaded.LoadAsync(Store);
        Assert.Equal(999, reloaded.Count);
        var ids = Enumerable.Range(0, reloaded.Count).Select(i => reloaded[i].EntityId).ToArray();
        Assert.Equal(Enumerable.Range(0, 1000).Where(i => i != 1).Select(i => $"i{i:D4}"), ids);
        Assert.Equal(1001, reloaded.NextSeq());
    }

    [Fact]
    public void A_change_marks_only_the_chunk_that_holds_the_item()
    {
        var collection = NewCollection();
        for (var i = 0; i < ChunkedCollection<Issuer>.MaxItemsPerChunk * 4; i++) collection.Add(Issuer($"i{i:D4}"), collection.NextSeq());
        collection.TakeChanges();

        collection.Replace("i0001", Issuer("i0001") with { Name = "changed" });

        Assert.Single(collection.TakeChanges());
        Assert.False(collection.HasChanges);
    }

    [Fact]
    public async Task A_chunk_is_sealed_by_size_before_it_grows_past_its_byte_bound()
    {
        var collection = new ChunkedCollection<Issuer>("org-b/issuers", i => i.EntityId, _ => ChunkedCollection<Issuer>.MaxBytesPerChunk / 4);
        for (var i = 0; i < 10; i++) collection.Add(Issuer($"big{i}"), collection.NextSeq());

        // Four items fill a chunk by bytes, so ten items take three chunks.
        Assert.Equal(3, collection.TakeChanges().Count);
        await Task.CompletedTask;
    }

    private static Chunk<Issuer> ChunkOf(params (long Seq, string Id)[] items) =>
        new(items.Max(i => i.Seq), items.Select(i => new ChunkItem<Issuer>(i.Seq, Issuer(i.Id))).ToArray());

    [Fact]
    public async Task Activation_loads_every_chunk_row_past_a_gap_and_a_new_chunk_lands_past_the_orphan()
    {
        // Chunk 1 is missing; chunk 2 was written by a batch that should have been refused.
        _storage.Seed("org-g/issuers/0", ChunkOf((1, "a"), (2, "b")));
        _storage.Seed("org-g/issuers/2", ChunkOf((5, "e")));
        var collection = new ChunkedCollection<Issuer>("org-g/issuers", i => i.EntityId, _ => 100, maxItemsPerChunk: 2);

        var load = await collection.LoadAsync(Store);

        Assert.Equal(new ChunkLoad(2, 1, 0), load);
        Assert.Equal(["a", "b", "e"], Enumerable.Range(0, collection.Count).Select(i => collection[i].EntityId));
        Assert.Equal(6, collection.NextSeq());

        // The orphan is the tail now: it takes one more item, then a new chunk opens at 3, not on 2.
        collection.Add(Issuer("f"), collection.NextSeq());
        collection.Add(Issuer("g"), collection.NextSeq());
        await Persist(collection);
        Assert.True(_storage.Contains("org-g/issuers/3"));
        Assert.False(_storage.Contains("org-g/issuers/1"));

        var reloaded = new ChunkedCollection<Issuer>("org-g/issuers", i => i.EntityId, _ => 100, maxItemsPerChunk: 2);
        await reloaded.LoadAsync(Store);
        Assert.Equal(["a", "b", "e", "f", "g"], Enumerable.Range(0, reloaded.Count).Select(i => reloaded[i].EntityId));
    }

    [Fact]
    public async Task Items_behind_a_gap_are_ordered_by_sequence_and_a_duplicate_is_dropped_and_rewritten_away()
    {
        // An orphan chunk 2 written before chunk 1 was reopened: it holds an older number (4) and a
        // key chunk 1 also holds (x).
        _storage.Seed("org-h/issuers/0", ChunkOf((1, "a"), (2, "b")));
        _storage.Seed("org-h/issuers/1", ChunkOf((3, "c"), (5, "x")));
        _storage.Seed("org-h/issuers/2", ChunkOf((4, "d"), (6, "x")));
        var collection = new ChunkedCollection<Issuer>("org-h/issuers", i => i.EntityId, _ => 100, maxItemsPerChunk: 2);

        var load = await collection.LoadAsync(Store);

        Assert.Equal(new ChunkLoad(3, 0, 1), load);
        Assert.Equal(["a", "b", "c", "d", "x"], Enumerable.Range(0, collection.Count).Select(i => collection[i].EntityId));
        Assert.Equal(7, collection.NextSeq());
        collection.Remove("x");
        await Persist(collection);

        var reloaded = new ChunkedCollection<Issuer>("org-h/issuers", i => i.EntityId, _ => 100, maxItemsPerChunk: 2);
        Assert.True((await reloaded.LoadAsync(Store)).IsClean);
        Assert.False(reloaded.TryGet("x", out _));
        Assert.Equal(["a", "b", "c", "d"], Enumerable.Range(0, reloaded.Count).Select(i => reloaded[i].EntityId));
    }

    [Fact]
    public async Task A_new_chunk_is_numbered_past_a_row_that_exists_but_holds_nothing()
    {
        _storage.Seed("org-k/issuers/0", ChunkOf((1, "a"), (2, "b")));
        _storage.Seed<Chunk<Issuer>?>("org-k/issuers/1", null);
        var collection = new ChunkedCollection<Issuer>("org-k/issuers", i => i.EntityId, _ => 100, maxItemsPerChunk: 2);
        await collection.LoadAsync(Store);

        collection.Add(Issuer("c"), collection.NextSeq());
        await Persist(collection);

        Assert.True(_storage.Contains("org-k/issuers/2"));
    }
}
