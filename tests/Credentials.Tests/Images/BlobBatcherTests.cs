using Credentials.Grains.Blobs;

namespace Credentials.Tests.Images;

/// <summary>
/// The per-process batcher behind PostgreSQL blob puts and existence checks: requests that arrive
/// while a batch is in flight share the next one, batches stay within their bounds, and a failed
/// batch fails every request in it.
/// </summary>
public sealed class BlobBatcherTests
{
    /// <summary>A batch runner that records every batch and holds the first until released.</summary>
    private sealed class HeldRunner
    {
        public readonly List<int[]> Batches = [];
        public readonly TaskCompletionSource FirstStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource ReleaseFirst = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public Func<int[], Exception?> Fail = _ => null;

        public async Task<IReadOnlyList<int>> RunAsync(IReadOnlyList<int> batch)
        {
            int count;
            lock (Batches)
            {
                Batches.Add([.. batch]);
                count = Batches.Count;
            }
            if (count == 1)
            {
                FirstStarted.TrySetResult();
                await ReleaseFirst.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }
            if (Fail([.. batch]) is { } failure) throw failure;
            return batch.Select(i => i * 10).ToArray();
        }
    }

    [Fact]
    public async Task Requests_arriving_during_a_batch_share_the_next_and_each_gets_its_own_answer()
    {
        var runner = new HeldRunner();
        var batcher = new BlobBatcher<int, int>(runner.RunAsync, _ => 1, maxCount: 100, maxWeight: 100);
        var first = batcher.RunAsync(0);
        await runner.FirstStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var queued = Enumerable.Range(1, 20).Select(i => batcher.RunAsync(i)).ToArray();
        runner.ReleaseFirst.SetResult();

        Assert.Equal(0, await first);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => i * 10), await Task.WhenAll(queued));
        Assert.Equal(2, runner.Batches.Count);
        Assert.Equal(Enumerable.Range(1, 20), runner.Batches[1]);
    }

    [Fact]
    public async Task A_batch_holds_no_more_requests_or_weight_than_its_bounds()
    {
        var runner = new HeldRunner();
        var batcher = new BlobBatcher<int, int>(runner.RunAsync, i => i, maxCount: 4, maxWeight: 10);
        var first = batcher.RunAsync(0);
        await runner.FirstStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var queued = new[] { 1, 2, 3, 4, 5, 9, 20, 1 }.Select(i => batcher.RunAsync(i)).ToArray();
        runner.ReleaseFirst.SetResult();
        await Task.WhenAll(queued.Append(first));

        // In arrival order: 1+2+3+4 reaches both bounds; 5 and 9 would weigh 14; 20 goes alone (a batch always takes its first).
        Assert.Equal([[0], [1, 2, 3, 4], [5], [9], [20], [1]], runner.Batches);
    }

    [Fact]
    public async Task A_failed_batch_fails_every_request_in_it_and_no_other()
    {
        var runner = new HeldRunner { Fail = batch => batch.Contains(13) ? new InvalidOperationException("injected") : null };
        var batcher = new BlobBatcher<int, int>(runner.RunAsync, _ => 1, maxCount: 100, maxWeight: 100);
        var first = batcher.RunAsync(0);
        await runner.FirstStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var doomed = new[] { 11, 12, 13, 14 }.Select(i => batcher.RunAsync(i)).ToArray();
        runner.ReleaseFirst.SetResult();

        Assert.Equal(0, await first);
        foreach (var request in doomed) await Assert.ThrowsAsync<InvalidOperationException>(() => request);
        // The batcher goes on after a failure.
        Assert.Equal(70, await batcher.RunAsync(7));
    }
}
