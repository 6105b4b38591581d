using Credentials.Grains;
using Credentials.Grains.Storage;

namespace Credentials.Tests.Grains.Storage;

public sealed class ChunkedCollectionTests
{
    private readonly FakeGrainStorage _storage = new();
    private ChunkStore Store => new(_storage);

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
}
