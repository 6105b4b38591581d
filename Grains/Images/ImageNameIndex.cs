namespace Credentials.Grains.Images;

/// <summary>
/// Case-insensitive substring search over an org's image names, fast at 100,000 images: every
/// name is stored upper-cased (invariant) in one contiguous buffer, separated by NUL, so a search
/// is a vectorised ordinal scan of one span rather than a comparison per image. Images are added
/// in id order and never renamed; deletions are tombstones until they are a quarter of the index.
/// </summary>
public sealed class ImageNameIndex
{
    private char[] _text = new char[4096];
    private int _length;
    private readonly List<int> _starts = [];
    private readonly List<long> _ids = [];
    private readonly HashSet<long> _deleted = [];

    public int Count => _ids.Count - _deleted.Count;

    public void Add(long id, string name)
    {
        var needed = _length + name.Length + 1;
        if (needed > _text.Length) Array.Resize(ref _text, Math.Max(needed, _text.Length * 2));
        _starts.Add(_length);
        _ids.Add(id);
        name.AsSpan().ToUpperInvariant(_text.AsSpan(_length, name.Length));
        _length += name.Length;
        _text[_length++] = '\0';
    }

    /// <summary>Forgets an id; <paramref name="rebuild"/> supplies the live (id, name) pairs in id order when compacting.</summary>
    public void Remove(long id, Func<IEnumerable<(long Id, string Name)>> rebuild)
    {
        _deleted.Add(id);
        if (_deleted.Count < 1024 || _deleted.Count * 4 < _ids.Count) return;
        _length = 0;
        _starts.Clear();
        _ids.Clear();
        _deleted.Clear();
        foreach (var (liveId, name) in rebuild()) Add(liveId, name);
    }

    /// <summary>
    /// Ids of images whose name contains <paramref name="query"/>, oldest first, above
    /// <paramref name="afterId"/>, skipping <paramref name="offset"/> of them.
    /// </summary>
    public List<long> Search(string query, int offset, int limit, long afterId = 0)
    {
        var found = new List<long>(Math.Min(limit, 256));
        if (limit <= 0 || query.Contains('\0')) return found;
        var skipped = 0;
        var first = FirstEntryAfter(afterId);
        if (query.Length == 0)
        {
            for (var i = first; i < _ids.Count && found.Count < limit; i++)
            {
                if (_deleted.Contains(_ids[i]) || skipped++ < offset) continue;
                found.Add(_ids[i]);
            }
            return found;
        }

        Span<char> folded = query.Length <= 256 ? stackalloc char[query.Length] : new char[query.Length];
        query.AsSpan().ToUpperInvariant(folded);
        var text = _text.AsSpan(0, _length);
        var position = first < _starts.Count ? _starts[first] : text.Length;
        while (found.Count < limit && position < text.Length)
        {
            var at = text[position..].IndexOf(folded, StringComparison.Ordinal);
            if (at < 0) break;
            var entry = EntryAt(position + at);
            var id = _ids[entry];
            if (!_deleted.Contains(id) && skipped++ >= offset) found.Add(id);
            // Continue after this name: one hit per image.
            position = entry + 1 < _starts.Count ? _starts[entry + 1] : text.Length;
        }
        return found;
    }

    /// <summary>The first entry whose id is above <paramref name="afterId"/>: ids are kept in ascending order.</summary>
    private int FirstEntryAfter(long afterId)
    {
        if (afterId <= 0) return 0;
        var index = _ids.BinarySearch(afterId);
        return index >= 0 ? index + 1 : ~index;
    }

    private int EntryAt(int offset)
    {
        var index = _starts.BinarySearch(offset);
        return index >= 0 ? index : ~index - 1;
    }
}
