namespace Credentials.Api.Http;

/// <summary>
/// Stands in for the response body while an endpoint writes its answer, holding up to
/// <paramref name="maxBytes"/> so the answer can be kept before it is sent. Past that it sends
/// what it holds and passes the rest straight through (<see cref="Overflowed"/>): memory stays bounded.
/// </summary>
public sealed class AnswerCapture(Stream inner, int maxBytes) : Stream
{
    private MemoryStream? _held = new();

    /// <summary>The answer outgrew the bound and has started going out: it cannot be kept.</summary>
    public bool Overflowed => _held is null;

    /// <summary>The bytes held (the whole answer unless <see cref="Overflowed"/>).</summary>
    public byte[] Captured() => _held?.ToArray() ?? [];

    /// <summary>Sends what is held; the endpoint has finished writing.</summary>
    public async Task SendAsync(CancellationToken cancellationToken)
    {
        if (_held is not { Length: > 0 } held) return;
        held.Position = 0;
        await held.CopyToAsync(inner, cancellationToken);
        _held = new MemoryStream();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_held is { } held && held.Length + buffer.Length <= maxBytes)
        {
            held.Write(buffer.Span);
            return;
        }
        if (_held is { } spilled)
        {
            _held = null;
            spilled.Position = 0;
            await spilled.CopyToAsync(inner, cancellationToken);
        }
        await inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => _held is null ? inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override void Flush() { }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
