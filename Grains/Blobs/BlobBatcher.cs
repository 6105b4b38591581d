namespace Credentials.Grains.Blobs;

/// <summary>
/// Shares database round trips between concurrent blob requests of one process, as group commit
/// does for an org's records: while one batch is in flight, every request that arrives joins the
/// next, which goes as one statement. Each caller gets its own answer once its batch is done; a
/// failed batch fails every caller in it (nothing of it is acknowledged).
/// </summary>
/// <remarks>
/// A batch holds at most <paramref name="maxCount"/> requests and, past its first, at most
/// <paramref name="maxWeight"/> of their weight (bytes, for writes), so one round trip stays bounded.
/// </remarks>
public sealed class BlobBatcher<TRequest, TResult>(
    Func<IReadOnlyList<TRequest>, Task<IReadOnlyList<TResult>>> runBatch,
    Func<TRequest, long> weigh,
    int maxCount,
    long maxWeight)
{
    private readonly object _lock = new();
    private readonly Queue<(TRequest Request, TaskCompletionSource<TResult> Answer)> _queue = new();
    private bool _running;

    public Task<TResult> RunAsync(TRequest request, CancellationToken cancellationToken = default)
    {
        var answer = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _queue.Enqueue((request, answer));
            if (!_running)
            {
                _running = true;
                _ = Task.Run(LoopAsync, CancellationToken.None);
            }
        }
        // A caller that leaves does not take its request out: the batch may already be written.
        return answer.Task.WaitAsync(cancellationToken);
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            var batch = new List<(TRequest Request, TaskCompletionSource<TResult> Answer)>();
            lock (_lock)
            {
                long weight = 0;
                while (batch.Count < maxCount && _queue.TryPeek(out var next))
                {
                    var w = weigh(next.Request);
                    if (batch.Count > 0 && weight + w > maxWeight) break;
                    batch.Add(_queue.Dequeue());
                    weight += w;
                }
                if (batch.Count == 0)
                {
                    _running = false;
                    return;
                }
            }
            try
            {
                var results = await runBatch(batch.ConvertAll(b => b.Request));
                for (var i = 0; i < batch.Count; i++) batch[i].Answer.TrySetResult(results[i]);
            }
            catch (Exception ex)
            {
                foreach (var (_, answer) in batch) answer.TrySetException(ex);
            }
        }
    }
}
