using Credentials.Grains.Images;

namespace Credentials.Tests.Grains;

public sealed class ImageNameIndexTests
{
    private static ImageNameIndex IndexOf(params string[] names)
    {
        var index = new ImageNameIndex();
        for (var i = 0; i < names.Length; i++) index.Add(i + 1, names[i]);
        return index;
    }

    [Theory]
    [InlineData("logo", new long[] { 1, 3 })]
    [InlineData("LOGO", new long[] { 1, 3 })]
    [InlineData("straße", new long[] { 4 })]
    [InlineData("ünï", new long[] { 2 })]
    [InlineData("", new long[] { 1, 2, 3, 4, 5 })]
    [InlineData("o\u0000b", new long[0])]
    [InlineData("zzz", new long[0])]
    public void Finds_every_name_containing_the_query_case_insensitively_oldest_first(string query, long[] expected)
    {
        var index = IndexOf("Logo", "Ünïcödé badge", "Big LOGO logo", "Hauptstraße", "Diploma");
        Assert.Equal(expected, index.Search(query, 0, 100));
    }

    [Fact]
    public void A_name_matching_twice_is_found_once_and_paging_counts_matches()
    {
        var index = IndexOf("aa aa", "b", "aa", "aa", "c aa");
        Assert.Equal([1L, 3, 4, 5], index.Search("aa", 0, 100));
        Assert.Equal([3L, 4], index.Search("aa", 1, 2));
        Assert.Empty(index.Search("aa", 10, 2));
    }

    [Fact]
    public void A_search_goes_on_after_an_id_whether_or_not_that_id_is_still_there()
    {
        var index = IndexOf("aa", "b aa", "aa", "c", "aa d", "aa");
        Assert.Equal([3L, 5, 6], index.Search("aa", 0, 100, afterId: 2));
        Assert.Equal([5L, 6], index.Search("aa", 1, 100, afterId: 2));
        Assert.Equal([4L, 5], index.Search("", 0, 2, afterId: 3));
        index.Remove(3, () => []);
        Assert.Equal([5L, 6], index.Search("aa", 0, 100, afterId: 3));
        Assert.Equal([4L, 5, 6], index.Search("", 0, 100, afterId: 2));
        Assert.Empty(index.Search("aa", 0, 100, afterId: 6));
        Assert.Empty(index.Search("", 0, 100, afterId: 99));
    }

    [Fact]
    public void Deleted_names_are_not_found_before_or_after_compaction()
    {
        var index = new ImageNameIndex();
        var live = new SortedDictionary<long, string>();
        for (long id = 1; id <= 5000; id++)
        {
            index.Add(id, $"image {id}");
            live[id] = $"image {id}";
        }
        for (long id = 1; id <= 4000; id++)
        {
            live.Remove(id);
            index.Remove(id, () => live.Select(kv => (kv.Key, kv.Value)));
        }

        Assert.Equal(1000, index.Count);
        Assert.Equal(Enumerable.Range(4001, 1000).Select(i => (long)i), index.Search("image", 0, 5000));
        Assert.Equal([4500L], index.Search("image 4500", 0, 10));
    }
}
