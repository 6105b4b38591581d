using System.Collections.Concurrent;
using System.Security.Cryptography;
using Credentials.Grains;
using Credentials.Grains.Blobs;

namespace Credentials.Tests.Images;

/// <summary>
/// The service's own blob store, watched per org: how often it is asked, how many bytes are read
/// and how many read streams are open; and, when a test says so, failing to open or mid-read.
/// </summary>
public sealed class ObservedBlobStore(IBlobStore inner) : IBlobStore, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Counters> _orgs = new();

    private sealed class Counters
    {
        public int Calls;
        public int Puts;
        public long BytesRead;
        public int OpenStreams;
        public bool FailOpen;
        public long? FailReadsAfter;
    }

    private Counters Of(string org) => _orgs.GetOrAdd(org, _ => new Counters());

    /// <summary>Every read-side call (open, get, exists) for the org.</summary>
    public int Calls(string org) => Volatile.Read(ref Of(org).Calls);
    /// <summary>Puts of the org's blobs through this store (an upload's own bytes, before its record).</summary>
    public int Puts(string org) => Volatile.Read(ref Of(org).Puts);
    public long BytesRead(string org) => Interlocked.Read(ref Of(org).BytesRead);
    public int OpenStreams(string org) => Volatile.Read(ref Of(org).OpenStreams);

    /// <summary>From now on, opening any of the org's blobs fails as an unreachable store does.</summary>
    public void FailOpening(string org) => Of(org).FailOpen = true;

    /// <summary>From now on, a read of the org's blobs that starts this many bytes in (or later) fails.</summary>
    public void FailReadingAfter(string org, long bytes) => Of(org).FailReadsAfter = bytes;

    public Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Of(org).Puts);
        return inner.PutAsync(org, sha256, content, cancellationToken);
    }

    /// <summary>Stores bytes straight into the store, as an upload would, and answers their hash.</summary>
    public async Task<string> PutAsync(string org, byte[] content)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(content));
        await inner.PutAsync(org, hash, content);
        return hash;
    }

    public Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Of(org).Calls);
        return inner.GetAsync(org, sha256, cancellationToken);
    }

    public async Task<Stream?> OpenReadAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        var counters = Of(org);
        Interlocked.Increment(ref counters.Calls);
        if (counters.FailOpen) throw new StorageUnavailableException("Injected: the blob store is unreachable.");
        var stream = await inner.OpenReadAsync(org, sha256, cancellationToken);
        if (stream is null) return null;
        Interlocked.Increment(ref counters.OpenStreams);
        return new WatchedStream(stream, counters);
    }

    public Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Of(org).Calls);
        return inner.ExistsAsync(org, sha256, cancellationToken);
    }

    public Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
        inner.DeleteAsync(org, sha256, cancellationToken);

    public IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, CancellationToken cancellationToken = default) =>
        inner.ListAsync(org, cancellationToken);

    public ValueTask DisposeAsync() => inner is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;

    private sealed class WatchedStream(Stream inner, Counters counters) : Stream
    {
        private int _disposed;

        public override bool CanRead => true;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }

        private void FailIfTold()
        {
            if (counters.FailReadsAfter is { } limit && inner.Position >= limit) throw new IOException("Injected: the blob store failed mid-read.");
        }

        private int Count(int read)
        {
            Interlocked.Add(ref counters.BytesRead, read);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            FailIfTold();
            return Count(await inner.ReadAsync(buffer, cancellationToken));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            FailIfTold();
            return Count(inner.Read(buffer, offset, count));
        }
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref counters.OpenStreams);
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref counters.OpenStreams);
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
