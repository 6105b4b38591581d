using Credentials.Grains;
using Credentials.Grains.Storage;

namespace Credentials.Tests.Grains.Storage;

public sealed class GroupCommitTests
{
    private readonly FakeGrainStorage _storage = new();

    private sealed class RowWrite(string key) : IPendingWrite
    {
        private string? _etag;
        public async Task WriteAsync(ChunkStore store) => _etag = await store.WriteAsync(key, new PlatformRecord(key, key, DateTimeOffset.UnixEpoch), _etag);
    }

    [Fact]
    public async Task Commits_requested_while_a_batch_is_written_share_the_next_batch()
    {
        var row = new RowWrite("org-a/platform");
        var pending = 0;
        var commit = new GroupCommit(new ChunkStore(_storage), () =>
        {
            var writes = pending > 0 ? new List<IPendingWrite> { row } : [];
            pending = 0;
            return writes;
        }, _ => { });

        var commits = new List<Task>();
        for (var i = 0; i < 50; i++)
        {
            pending++;
            commits.Add(commit.CommitAsync());
        }
        await Task.WhenAll(commits);

        Assert.InRange(_storage.Writes, 1, 2);
    }

    [Fact]
    public async Task A_failed_batch_is_refused_and_nothing_is_acknowledged_until_reload()
    {
        Exception? reported = null;
        var commit = new GroupCommit(new ChunkStore(_storage), () => [new RowWrite("org-b/platform")], ex => reported = ex);
        _storage.Failing = true;

        await Assert.ThrowsAsync<StorageUnavailableException>(commit.CommitAsync);
        Assert.NotNull(reported);

        _storage.Failing = false;
        await Assert.ThrowsAsync<StorageUnavailableException>(commit.CommitAsync);
        Assert.Equal(0, _storage.Writes);
    }
}
