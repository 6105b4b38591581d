using Credentials.Grains;
using Credentials.Grains.Storage;

namespace Credentials.Tests.Grains.Storage;

public sealed class GroupCommitTests
{
    /// <summary>A safety net against a hang, not a bound: a loaded CI machine may take seconds to schedule a continuation.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly FakeGrainStorage _storage = new();

    private sealed class RowWrite(string key) : IPendingWrite
    {
        private string? _etag;
        public async Task WriteAsync(ChunkStore store) => _etag = await store.WriteAsync(key, new PlatformRecord(key, key, DateTimeOffset.UnixEpoch), _etag);
    }

    [Fact]
    public Task Commits_requested_while_a_batch_is_written_share_the_next_batch() => OnOneScheduler(async () =>
    {
        var row = new RowWrite("org-a/platform");
        var pending = 0;
        var commit = new GroupCommit(_storage.Store(), () =>
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
    });

    [Fact]
    public Task A_failed_batch_is_refused_and_nothing_is_acknowledged_until_reload() => OnOneScheduler(async () =>
    {
        Exception? reported = null;
        var commit = new GroupCommit(_storage.Store(), () => [new RowWrite("org-b/platform")], ex => reported = ex);
        _storage.Failing = true;

        await Assert.ThrowsAsync<StorageUnavailableException>(commit.CommitAsync);
        Assert.NotNull(reported);

        _storage.Failing = false;
        await Assert.ThrowsAsync<StorageUnavailableException>(commit.CommitAsync);
        Assert.Equal(0, _storage.Writes);
    });

    [Fact]
    public Task A_batch_queued_behind_a_failed_one_is_refused_unwritten_and_every_acknowledged_item_survives_reload() => OnOneScheduler(async () =>
    {
        // Two items per chunk: chunk 0 holds a and b, acknowledged before the failure.
        var issuers = Collection();
        var commit = new GroupCommit(_storage.Store(), () => [.. issuers.TakeChanges()], _ => { });
        issuers.Add(Issuer("a"), issuers.NextSeq());
        issuers.Add(Issuer("b"), issuers.NextSeq());
        await commit.CommitAsync();

        // Batch A opens chunk 1 (c, d) and its write is held, then fails.
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _storage.BeforeWrite = async key =>
        {
            if (key != "org-c/issuers/1") return;
            held.SetResult();
            await release.Task;
            throw new TimeoutException("the database did not answer");
        };
        issuers.Add(Issuer("c"), issuers.NextSeq());
        issuers.Add(Issuer("d"), issuers.NextSeq());
        var batchA = commit.CommitAsync();
        await held.Task.WaitAsync(Deadline);

        // Batch B joins while A is in flight: it would write chunk 2 (e) past the missing chunk 1.
        issuers.Add(Issuer("e"), issuers.NextSeq());
        var batchB = commit.CommitAsync();
        release.SetResult();

        await Assert.ThrowsAsync<StorageUnavailableException>(() => batchA);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => batchB);
        Assert.False(_storage.Contains("org-c/issuers/2"));

        var reloaded = Collection();
        await reloaded.LoadAsync(_storage.Store());
        Assert.Equal(["a", "b"], Enumerable.Range(0, reloaded.Count).Select(i => reloaded[i].EntityId));
    });

    /// <summary>
    /// GroupCommit runs on its grain's scheduler, one turn at a time. The tests do the same: on the
    /// thread pool a finishing batch loop and a new commit could interleave, which a grain never does.
    /// </summary>
    private static Task OnOneScheduler(Func<Task> test) =>
        Task.Factory.StartNew(test, CancellationToken.None, TaskCreationOptions.None, new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler).Unwrap();

    private static ChunkedCollection<Issuer> Collection() => new("org-c/issuers", i => i.EntityId, _ => 100, maxItemsPerChunk: 2);

    private static Issuer Issuer(string id) => new(id, "Issuer " + id, null, null, null, null, new Dictionary<string, string>());
}
