namespace Credentials.Grains.Storage;

/// <summary>
/// Group commit for one org grain. Writers change the grain's memory synchronously, then await
/// <see cref="CommitAsync"/>. While one batch is being written, every change that arrives joins the
/// next batch, so a burst of writes to one org costs a few database round trips, not one each.
/// </summary>
/// <remarks>
/// Must be used from the grain's own scheduler (a reentrant grain): the batch loop's continuations
/// run there, so taking changes never races with a turn that makes them.
/// </remarks>
public sealed class GroupCommit(ChunkStore store, Func<List<IPendingWrite>> takeChanges, Action<Exception> onFailure)
{
    private TaskCompletionSource? _next;
    private Task? _running;
    private Exception? _broken;

    public Task CommitAsync()
    {
        // After a failed batch memory may hold changes storage refused; nothing more is
        // acknowledged until the grain has reloaded from storage.
        if (_broken is not null) return Task.FromException(new StorageUnavailableException());
        _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = _next.Task;
        _running ??= RunAsync();
        return done;
    }

    private async Task RunAsync()
    {
        // Let the requests already queued for this grain make their changes first, so they share the batch.
        await Task.Yield();
        while (_next is { } batch)
        {
            _next = null;
            var writes = takeChanges();
            try
            {
                // One transaction where the backend has one; else in order, so a chunk row never
                // exists before the one below it.
                await store.WriteAllAsync(writes);
                batch.SetResult();
            }
            catch (Exception ex)
            {
                // Memory is now ahead of storage: refuse this batch and let the owner reload.
                _broken = ex;
                batch.SetException(new StorageUnavailableException());
                // A batch queued meanwhile is refused unwritten: it may hold a chunk opened after one
                // this batch failed to write, and a row written past a missing one would be an orphan.
                if (_next is { } queued)
                {
                    _next = null;
                    queued.SetException(new StorageUnavailableException());
                }
                onFailure(ex);
            }
        }
        _running = null;
    }
}

