using System.Runtime.CompilerServices;
using Credentials.Grains;
using Credentials.Grains.Blobs;
using Credentials.Grains.Quotas;
using Microsoft.Extensions.Logging.Abstractions;

namespace Credentials.Tests.Grains;

public sealed class BlobBookkeepingTests
{
    private const string Org = "acme";
    private static readonly string HashA = new('a', 64);
    private static readonly string HashB = new('b', 64);
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeBlobs _store = new();
    private readonly OrgUsage _usage = new(new OrgLimits());
    private readonly BlobBookkeeping _blobs;

    public BlobBookkeepingTests() => _blobs = new BlobBookkeeping(Org, _store, _usage, new FixedClock(Now), NullLogger.Instance);

    private static ImageRecord Image(long id, string hash, long length = 1000) =>
        new(id, $"image {id}", hash, "png", length, 10, 10, Now);

    [Fact]
    public void A_blobs_bytes_count_once_while_any_record_uses_it()
    {
        _blobs.Reference(Image(1, HashA), +1);
        _blobs.Reference(Image(2, HashA), +1);
        Assert.Equal(1000, _usage.ImageBytes);

        _blobs.Reference(Image(1, HashA), -1);
        Assert.Equal(1000, _usage.ImageBytes);
        Assert.True(_blobs.IsReferenced(HashA));

        _blobs.Reference(Image(2, HashA), -1);
        Assert.Equal(0, _usage.ImageBytes);
        Assert.False(_blobs.IsReferenced(HashA));
    }

    [Fact]
    public async Task A_referenced_blob_is_never_collected_and_an_unreferenced_one_is()
    {
        _store.Add(HashA, Now);
        _store.Add(HashB, Now);
        _blobs.Reference(Image(1, HashA), +1);

        await _blobs.CollectAsync(HashA);
        await _blobs.CollectAsync(HashB);

        Assert.Equal([HashA], _store.Hashes);
    }

    [Fact]
    public async Task A_referenced_blob_is_stored_without_asking_the_store()
    {
        _blobs.Reference(Image(1, HashA), +1);
        Assert.True(await _blobs.IsStoredAsync(HashA));
        Assert.Equal(0, _store.ExistsCalls);
    }

    [Fact]
    public async Task An_unreferenced_blob_is_stored_only_if_the_store_has_it()
    {
        _store.Add(HashA, Now);
        Assert.True(await _blobs.IsStoredAsync(HashA));
        Assert.False(await _blobs.IsStoredAsync(HashB));
    }

    [Fact]
    public async Task A_blob_an_upload_is_checking_is_not_collected()
    {
        _store.Add(HashA, Now);
        _store.HoldExists = new TaskCompletionSource();
        var checking = _blobs.IsStoredAsync(HashA);

        await _blobs.CollectAsync(HashA);
        Assert.Equal([HashA], _store.Hashes);

        _store.HoldExists.SetResult();
        Assert.True(await checking);
        // Once the check is over the blob may go again (no record took it).
        await _blobs.CollectAsync(HashA);
        Assert.Empty(_store.Hashes);
    }

    [Fact]
    public async Task An_upload_of_a_blob_being_deleted_is_told_it_is_missing()
    {
        _store.Add(HashA, Now);
        _store.HoldDelete = new TaskCompletionSource();
        var deleting = _blobs.CollectAsync(HashA);

        Assert.False(await _blobs.IsStoredAsync(HashA));
        Assert.Equal(0, _store.ExistsCalls);

        _store.HoldDelete.SetResult();
        await deleting;
        Assert.Empty(_store.Hashes);
    }

    [Fact]
    public async Task A_failed_delete_leaves_the_blob_for_the_next_sweep()
    {
        _store.Add(HashA, Now);
        _store.FailDeletes = true;
        await _blobs.CollectAsync(HashA);
        Assert.Equal([HashA], _store.Hashes);

        _store.FailDeletes = false;
        await _blobs.CollectAsync(HashA);
        Assert.Empty(_store.Hashes);
    }

    [Fact]
    public async Task The_orphan_sweep_takes_only_unreferenced_blobs_older_than_the_grace()
    {
        var old = Now - BlobBookkeeping.OrphanGrace - TimeSpan.FromSeconds(1);
        var young = Now - BlobBookkeeping.OrphanGrace + TimeSpan.FromSeconds(1);
        var hashC = new string('c', 64);
        _store.Add(HashA, old);   // orphan, old: goes
        _store.Add(HashB, old);   // referenced: stays
        _store.Add(hashC, young); // may be an upload on its way: stays
        _blobs.Reference(Image(1, HashB), +1);

        await _blobs.CollectOrphansAsync(CancellationToken.None);

        Assert.Equal([HashB, hashC], _store.Hashes);
    }

    [Fact]
    public async Task A_blob_being_put_for_an_upload_is_not_collected()
    {
        _store.HoldPut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var putting = _blobs.PutAsync(HashA, new byte[] { 1 });
        await ImagesEventually(() => _store.Puts == 1);

        await _blobs.CollectAsync(HashA);
        Assert.Equal([HashA], _store.Hashes);

        _store.HoldPut.SetResult();
        Assert.True(await putting);
    }

    [Fact]
    public async Task A_put_while_the_blob_is_being_deleted_is_refused_and_bytes_in_use_are_not_put_again()
    {
        _store.Add(HashA, Now);
        _store.HoldDelete = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var collecting = _blobs.CollectAsync(HashA);

        Assert.True(_blobs.IsCollecting(HashA));
        Assert.False(await _blobs.PutAsync(HashA, new byte[] { 1 }));
        _store.HoldDelete.SetResult();
        await collecting;

        _blobs.Reference(Image(1, HashB), +1);
        Assert.True(await _blobs.PutAsync(HashB, new byte[] { 2 }));
        Assert.Equal(0, _store.Puts);
    }

    private static Task ImagesEventually(Func<bool> condition) =>
        Images.ImageRequests.EventuallyAsync(() => Task.FromResult(condition()), "the put reached the store");

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>Blobs in a dictionary; existence checks and deletes can be held open to interleave calls.</summary>
    private sealed class FakeBlobs : IBlobStore
    {
        private readonly SortedDictionary<string, DateTimeOffset> _blobs = new(StringComparer.Ordinal);
        public TaskCompletionSource? HoldExists { get; set; }
        public TaskCompletionSource? HoldDelete { get; set; }
        public bool FailDeletes { get; set; }
        public int ExistsCalls { get; private set; }
        public string[] Hashes => [.. _blobs.Keys];

        public void Add(string hash, DateTimeOffset stored) => _blobs[hash] = stored;

        public async Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default)
        {
            ExistsCalls++;
            if (HoldExists is { } hold) await hold.Task;
            return _blobs.ContainsKey(sha256);
        }

        public async Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default)
        {
            if (HoldDelete is { } hold) await hold.Task;
            if (FailDeletes) throw new IOException("disk gone");
            _blobs.Remove(sha256);
        }

        public async IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (var (hash, stored) in _blobs.ToArray())
            {
                await Task.Yield();
                yield return (hash, stored);
            }
        }

        public TaskCompletionSource? HoldPut { get; set; }
        public int Puts { get; private set; }

        /// <summary>Stores at once; with <see cref="HoldPut"/> the put is not yet acknowledged.</summary>
        public async Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
        {
            Puts++;
            _blobs[sha256] = DateTimeOffset.MinValue;
            if (HoldPut is { } hold) await hold.Task;
        }
        public Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<Stream?> OpenReadAsync(string org, string sha256, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
