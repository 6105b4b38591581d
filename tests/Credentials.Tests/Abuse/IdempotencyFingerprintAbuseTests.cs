using System.Diagnostics;
using System.Text;
using Credentials.Api.Http;
using Microsoft.AspNetCore.Http;

namespace Credentials.Tests.Abuse;

/// <summary>
/// B6 for Idempotency-Key (C3): the body fingerprint of a 10 MiB multipart body of a hundred
/// thousand tiny parts costs about what one 10 MiB part costs, in time and in allocated bytes.
/// </summary>
public sealed class IdempotencyFingerprintAbuseTests
{
    private const int Size = 10 * 1024 * 1024;
    private const string Boundary = "b0undary";
    private const int Runs = 5;

    [Fact]
    public async Task Many_tiny_parts_cost_about_what_one_part_of_the_same_size_costs()
    {
        var hostile = TinyParts(Size);
        var benign = OnePart(Size);
        await FingerprintAsync(hostile);
        await FingerprintAsync(benign);

        (double Seconds, long Bytes) bestHostile = (double.MaxValue, long.MaxValue), bestBenign = (double.MaxValue, long.MaxValue);
        for (var run = 0; run < Runs; run++)
        {
            var h = await MeasureAsync(hostile);
            var b = await MeasureAsync(benign);
            bestHostile = (Math.Min(bestHostile.Seconds, h.Seconds), Math.Min(bestHostile.Bytes, h.Bytes));
            bestBenign = (Math.Min(bestBenign.Seconds, b.Seconds), Math.Min(bestBenign.Bytes, b.Bytes));
        }

        Assert.True(bestHostile.Bytes <= 4 * bestBenign.Bytes + 1024 * 1024,
            $"tiny parts allocated {bestHostile.Bytes:N0} B, one part {bestBenign.Bytes:N0} B");
        Assert.True(bestHostile.Seconds <= 3 * bestBenign.Seconds,
            $"tiny parts took {bestHostile.Seconds * 1000:0.0} ms, one part {bestBenign.Seconds * 1000:0.0} ms");
    }

    [Fact]
    public async Task A_form_of_a_few_parts_is_the_same_body_under_another_boundary_and_too_many_parts_compare_raw()
    {
        static byte[] Form(string boundary, int parts)
        {
            var text = new StringBuilder();
            for (var i = 0; i < parts; i++) text.Append($"--{boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nvalue {i}\r\n");
            return Encoding.ASCII.GetBytes(text.Append($"--{boundary}--\r\n").ToString());
        }

        Assert.Equal(await FingerprintAsync(Form("one", 3), "one"), await FingerprintAsync(Form("two", 3), "two"));
        var many = IdempotencyFingerprint.MaxParts + 1;
        Assert.NotEqual(await FingerprintAsync(Form("one", many), "one"), await FingerprintAsync(Form("two", many), "two"));
    }

    private static async Task<(double Seconds, long Bytes)> MeasureAsync(byte[] body)
    {
        // A MemoryStream completes every read at once: the whole computation runs on this thread.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        await FingerprintAsync(body);
        return (Stopwatch.GetElapsedTime(start).TotalSeconds, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static async Task<byte[]> FingerprintAsync(byte[] body, string boundary = Boundary)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = $"multipart/form-data; boundary={boundary}";
        context.Request.Body = new MemoryStream(body, writable: false);
        var (fingerprint, length) = await IdempotencyFingerprint.ComputeAsync(context.Request, Size * 2L, CancellationToken.None);
        Assert.Equal(body.Length, length);
        return fingerprint!;
    }

    private static byte[] TinyParts(int size)
    {
        var part = Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n");
        var output = new MemoryStream(size + part.Length);
        while (output.Length + part.Length < size) output.Write(part);
        output.Write(Encoding.ASCII.GetBytes($"--{Boundary}--\r\n"));
        return output.ToArray();
    }

    private static byte[] OnePart(int size)
    {
        var head = Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n");
        var tail = Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n");
        var body = new byte[size];
        head.CopyTo(body, 0);
        new Random(7).NextBytes(body.AsSpan(head.Length, size - head.Length - tail.Length));
        tail.CopyTo(body, size - tail.Length);
        return body;
    }
}
