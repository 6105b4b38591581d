using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Images;

/// <summary>The service on real Kestrel sockets, for what only a real server shows: how much of a body it reads.</summary>
public sealed class KestrelApiFixture : IAsyncLifetime
{
    public ApiFactory Factory { get; } = new(Backend.Sqlite);

    public Task InitializeAsync()
    {
        Factory.UseKestrel(0);
        Factory.StartServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}

/// <summary>
/// B3's upload limits: a body over 10 MiB + 64 KiB is a 413 without being read, declared or not;
/// every limit is configuration.
/// </summary>
public sealed class UploadLimitTests(KestrelApiFixture fixture) : IClassFixture<KestrelApiFixture>
{
    private const long MaxBody = 10 * 1024 * 1024 + 64 * 1024;
    private readonly ApiFactory _factory = fixture.Factory;
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    /// <summary>A multipart body with a PNG padded to <paramref name="fileLength"/> bytes, written as it is sent.</summary>
    private sealed class StreamedUpload(long fileLength, bool declareLength) : HttpContent
    {
        private const string Boundary = "streamed-boundary";
        private static readonly byte[] Head = Encoding.ASCII.GetBytes(
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n");
        private static readonly byte[] Tail = Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n");

        public long Length => Head.Length + fileLength + Tail.Length;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await WriteAsync(stream, Head);
            var png = SampleImages.Png();
            await WriteAsync(stream, png);
            var chunk = new byte[64 * 1024];
            for (var left = fileLength - png.Length; left > 0; left -= chunk.Length)
            {
                await WriteAsync(stream, chunk.AsMemory(0, (int)Math.Min(chunk.Length, left)));
            }
            await WriteAsync(stream, Tail);
        }

        private static ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> bytes) => stream.WriteAsync(bytes);

        protected override bool TryComputeLength(out long length)
        {
            length = Length;
            return declareLength;
        }
    }

    private static StreamedUpload Upload(long fileLength, bool declareLength)
    {
        var content = new StreamedUpload(fileLength, declareLength);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=streamed-boundary");
        return content;
    }

    /// <summary>
    /// Sends the headers of an upload and then up to a gibibyte of body over a raw socket, watching
    /// for the answer all the while: what arrives, and how much had been sent when it did.
    /// </summary>
    private async Task<(int Status, long Sent)> SendRawUploadAsync(string org, bool chunked)
    {
        const string boundary = "raw-boundary";
        const long declared = 1L << 30;
        var address = _client.BaseAddress!;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var stream = tcp.GetStream();
        var head = $"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"big.png\"\r\n\r\n";
        var headers = new StringBuilder()
            .Append($"POST {ImageRequests.Images(org)} HTTP/1.1\r\n")
            .Append($"Host: {address.Authority}\r\n")
            .Append($"Authorization: Api-Token {ApiFactory.AdminToken}\r\n")
            .Append($"Content-Type: multipart/form-data; boundary={boundary}\r\n")
            .Append(chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {declared}\r\n")
            .Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(headers.ToString()));

        var answer = ReadStatusAsync(stream);
        long sent = 0;
        var body = new byte[64 * 1024];
        Encoding.ASCII.GetBytes(head).CopyTo(body, 0);
        SampleImages.Png().CopyTo(body, head.Length);
        try
        {
            while (!answer.IsCompleted && sent < declared)
            {
                if (chunked) await stream.WriteAsync(Encoding.ASCII.GetBytes($"{body.Length:x}\r\n"));
                await stream.WriteAsync(body);
                if (chunked) await stream.WriteAsync("\r\n"u8.ToArray());
                sent += body.Length;
                body.AsSpan().Clear();
            }
        }
        catch (IOException)
        {
            // The server closed the connection after answering: sending stops here.
        }
        var status = await answer.WaitAsync(TimeSpan.FromSeconds(30));
        return (status, sent);
    }

    private static async Task<int> ReadStatusAsync(Stream stream)
    {
        var buffer = new byte[1024];
        var read = 0;
        while (read < 12)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read));
            if (n == 0) throw new IOException("The connection closed without an answer.");
            read += n;
        }
        var line = Encoding.ASCII.GetString(buffer, 0, read);
        Assert.StartsWith("HTTP/1.1 ", line);
        return int.Parse(line.AsSpan(9, 3), CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_declared_body_of_a_gibibyte_is_a_413_before_the_body_is_sent()
    {
        var org = await _client.CreatePlatformAsync();

        var (status, sent) = await SendRawUploadAsync(org, chunked: false);

        Assert.Equal(413, status);
        Assert.True(sent < 32L * 1024 * 1024, $"{sent} bytes were sent before the refusal");
        Assert.Empty(ImageRequests.BlobFiles(_factory, org));
    }

    [Fact]
    public async Task A_chunked_body_that_grows_past_the_limit_is_a_413_soon_after_it_does()
    {
        var org = await _client.CreatePlatformAsync();

        var (status, sent) = await SendRawUploadAsync(org, chunked: true);

        Assert.Equal(413, status);
        Assert.True(sent < 32L * 1024 * 1024, $"{sent} bytes were sent before the refusal");
        Assert.Empty(ImageRequests.BlobFiles(_factory, org));
    }

    [Fact]
    public async Task A_declared_body_one_byte_over_the_limit_is_a_413()
    {
        var org = await _client.CreatePlatformAsync();
        var upload = Upload(0, declareLength: true);
        var fileLength = MaxBody + 1 - upload.Length;

        var response = await _client.PostAsync(ImageRequests.Images(org), Upload(fileLength, declareLength: true));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await response.ProblemAsync();
    }

    [Fact]
    public async Task A_chunked_body_with_a_file_just_over_10_MiB_is_a_413()
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(ImageRequests.Images(org), Upload(10 * 1024 * 1024 + 1, declareLength: false));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await response.ProblemAsync();
    }

    [Fact]
    public async Task A_chunked_body_with_a_file_of_exactly_10_MiB_is_accepted()
    {
        var org = await _client.CreatePlatformAsync();

        var response = await _client.PostAsync(ImageRequests.Images(org), Upload(10 * 1024 * 1024, declareLength: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Every_limit_follows_configuration()
    {
        await using var factory = new ApiFactory();
        factory.Settings["Images:MaxFileBytes"] = "2000";
        factory.Settings["Images:MaxSide"] = "100";
        factory.Settings["Images:MaxPixels"] = "5000";
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();

        async Task<HttpStatusCode> StatusOf(byte[] bytes) =>
            (await admin.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(bytes))).StatusCode;

        Assert.Equal(HttpStatusCode.OK, await StatusOf(SampleImages.PngOfLength(2000)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await StatusOf(SampleImages.PngOfLength(2001)));
        Assert.Equal(HttpStatusCode.OK, await StatusOf(SampleImages.PngClaiming(100, 50)));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusOf(SampleImages.PngClaiming(101, 1)));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusOf(SampleImages.PngClaiming(100, 51)));
        var large = await admin.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(new byte[2000 + 64 * 1024 + 1]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
    }
}
