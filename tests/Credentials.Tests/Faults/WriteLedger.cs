using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Credentials.Tests.Faults;

/// <summary>
/// Write load for fault runs, and the ledger of what it was promised: writers POST issuers and
/// upload images (each a distinct PNG) round-robin over orgs and API nodes; every 2xx answer is
/// an acknowledged write, checked one by one by <see cref="VerifyAsync"/> after recovery. Every
/// other answer is classified: 503 (with Retry-After) and, when allowed, 429 are fine; any other
/// status, a timeout, or a connection failure outside a declared outage is a violation.
/// </summary>
/// <remarks>
/// No test framework types: bench/Credentials.Bench compiles this same file for its fault runs.
/// </remarks>
public sealed class WriteLedger : IAsyncDisposable
{
    public sealed record Options
    {
        public int Writers { get; init; } = 16;
        /// <summary>Every Nth write of a writer is an image upload (0: issuers only).</summary>
        public int ImageEvery { get; init; } = 4;
        public bool AllowRateLimited { get; init; }
        public string User { get; init; } = "admin";
        public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    }

    public sealed record Ack(string Org, string Kind, string Key, string Name, string? MediaPath, byte[]? Bytes, TimeSpan At, TimeSpan Took);

    public sealed record Failure(string Org, string What, TimeSpan Started, TimeSpan At, bool Violation);

    private readonly Uri[] _nodes;
    private readonly string _token;
    private readonly IReadOnlyList<string> _orgs;
    private readonly Options _options;
    private readonly Func<Uri, HttpClient> _newClient;
    private HttpClient[] _clients;
    private readonly List<HttpClient> _retired = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<Ack> _acks = new();
    private readonly ConcurrentQueue<Failure> _failures = new();
    private readonly ConcurrentDictionary<string, long> _answers = new();
    private readonly List<(TimeSpan From, TimeSpan To, string Why)> _outages = [];
    private readonly CancellationTokenSource _stop = new();
    private Task[] _writers = [];
    private long _imageCounter;
    private readonly long _imageBase = Random.Shared.NextInt64(1L << 46);

    /// <param name="newClient">Builds a client for a node; the default is a plain SocketsHttpHandler client. Called again by <see cref="Reconnect"/>.</param>
    public WriteLedger(IReadOnlyList<Uri> nodes, string token, IReadOnlyList<string> orgs, Options? options = null, Func<Uri, HttpClient>? newClient = null)
    {
        if (nodes.Count == 0 || orgs.Count == 0) throw new ArgumentException("Need at least one node and one org.");
        _nodes = [.. nodes];
        _token = token;
        _orgs = orgs;
        _options = options ?? new Options();
        _newClient = newClient ?? DefaultClient;
        _clients = [.. _nodes.Select(_newClient)];
    }

    public TimeSpan Now => _clock.Elapsed;
    public IReadOnlyCollection<Ack> Acks => _acks;
    public IReadOnlyCollection<Failure> Failures => _failures;
    public long Acknowledged => _acks.Count;
    public IEnumerable<Failure> Violations => _failures.Where(f => f.Violation || Unexplained(f));
    /// <summary>Answers and failures by kind ("200", "503", "HttpRequestException", …).</summary>
    public IReadOnlyDictionary<string, long> Answers => _answers;

    public void Start()
    {
        if (_writers.Length > 0) throw new InvalidOperationException("Already started.");
        _writers = [.. Enumerable.Range(0, _options.Writers).Select(w => Task.Run(() => WriteLoopAsync(w)))];
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_writers);
    }

    /// <summary>From now until <see cref="EndOutage"/>, connection failures are explained (the process is dead).</summary>
    public void BeginOutage(string why)
    {
        lock (_outages) _outages.Add((Now, TimeSpan.MaxValue, why));
    }

    public void EndOutage()
    {
        lock (_outages)
        {
            var last = _outages[^1];
            _outages[^1] = last with { To = Now };
        }
    }

    /// <summary>Fresh connections to every node (the old ones went to a process that died).</summary>
    public void Reconnect()
    {
        var old = _clients;
        _clients = [.. _nodes.Select(_newClient)];
        lock (_retired) _retired.AddRange(old);
    }

    /// <summary>Waits for <paramref name="condition"/> while the load runs; throws with the ledger's state after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Now + timeout;
        while (!condition())
        {
            if (Now > deadline) throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}. {Summary()}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until <paramref name="count"/> more writes are acknowledged than now.</summary>
    public Task WaitForMoreAcksAsync(int count, TimeSpan timeout, string what)
    {
        var target = Acknowledged + count;
        return WaitUntilAsync(() => Acknowledged >= target, timeout, $"{count} acknowledged writes {what}");
    }

    public string Summary()
    {
        var issuers = _acks.Count(a => a.Kind == "issuer");
        var answers = string.Join(", ", _answers.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}×{kv.Value}"));
        var violations = Violations.ToList();
        var text = new StringBuilder($"{_acks.Count} acknowledged ({issuers} issuers, {_acks.Count - issuers} images) at {Now.TotalSeconds:0.0} s; answers: {answers}; {violations.Count} violations");
        foreach (var v in violations.Take(15)) text.Append($"\n  {v.Started.TotalSeconds:0.00}–{v.At.TotalSeconds:0.00} s {v.Org}: {v.What}");
        lock (_outages)
        {
            foreach (var (from, to, why) in _outages) text.Append($"\n  outage {from.TotalSeconds:0.00}–{(to == TimeSpan.MaxValue ? "…" : to.TotalSeconds.ToString("0.00"))} s: {why}");
        }
        return text.ToString();
    }

    /// <summary>Latency percentile (0–100) of acknowledged writes.</summary>
    public TimeSpan AckPercentile(double percentile)
    {
        var sorted = _acks.Select(a => a.Took).Order().ToArray();
        if (sorted.Length == 0) return TimeSpan.Zero;
        return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    public sealed record Verification(int Checked, IReadOnlyList<string> Lost)
    {
        public override string ToString() =>
            $"{Checked} acknowledged writes checked, {Lost.Count} lost" + string.Concat(Lost.Take(20).Select(l => "\n  " + l));
    }

    /// <summary>
    /// Reads back every acknowledged write through <paramref name="reader"/> (a base URL): an issuer
    /// by entityId with its name; an image by id with its name, and its media bytes. 503 and
    /// connection failures are retried until <paramref name="timeout"/>; then the write counts as lost.
    /// </summary>
    public async Task<Verification> VerifyAsync(Uri reader, TimeSpan timeout, int parallelism = 16)
    {
        using var client = _newClient(reader);
        var deadline = Now + timeout;
        var lost = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(_acks.ToArray(), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (ack, _) =>
        {
            var problem = await CheckAsync(client, ack, deadline);
            if (problem is not null) lost.Enqueue($"{ack.Kind} {ack.Org}/{ack.Key} ('{ack.Name}', acknowledged at {ack.At.TotalSeconds:0.00} s): {problem}");
        });
        return new Verification(_acks.Count, [.. lost]);
    }

    private async Task<string?> CheckAsync(HttpClient client, Ack ack, TimeSpan deadline)
    {
        var basePath = $"/api/credentials/orgs/{ack.Org}/users/{_options.User}/{(ack.Kind == "issuer" ? "issuers" : "images")}/{Uri.EscapeDataString(ack.Key)}/";
        while (true)
        {
            string problem;
            try
            {
                using var response = await client.SendAsync(Request(HttpMethod.Get, basePath));
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    var node = JsonNode.Parse(body)!;
                    var record = ack.Kind == "issuer" ? node[0]! : node;
                    var name = record["name"]?.GetValue<string>();
                    if (name != ack.Name) return $"stored name '{name}'";
                    if (ack.Kind == "issuer") return null;
                    using var media = await client.GetAsync(ack.MediaPath);
                    if (media.StatusCode == HttpStatusCode.OK)
                    {
                        var bytes = await media.Content.ReadAsByteArrayAsync();
                        return bytes.AsSpan().SequenceEqual(ack.Bytes) ? null : $"media {ack.MediaPath} served {bytes.Length} other bytes";
                    }
                    if (media.StatusCode == HttpStatusCode.NotFound) return $"media {ack.MediaPath} is 404";
                    problem = $"media answered {(int)media.StatusCode}";
                }
                else if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return "404";
                }
                else if (response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
                {
                    problem = $"still {(int)response.StatusCode}";
                }
                else
                {
                    return $"answered {(int)response.StatusCode}: {Cut(body)}";
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
            {
                problem = ex.GetType().Name + ": " + ex.Message;
            }
            if (Now > deadline) return problem + " until the verification deadline";
            await Task.Delay(200);
        }
    }

    private async Task WriteLoopAsync(int writer)
    {
        var stop = _stop.Token;
        for (long n = 0; !stop.IsCancellationRequested; n++)
        {
            var org = _orgs[(int)((writer + n) % _orgs.Count)];
            var image = _options.ImageEvery > 0 && n % _options.ImageEvery == _options.ImageEvery - 1;
            var client = _clients[writer % _clients.Length];
            var started = Now;
            string? failure = null;
            var violation = false;
            byte[]? bytes = null;
            string name;
            try
            {
                using var request = image ? NewUpload(org, writer, n, out bytes, out name) : NewIssuer(org, writer, n, out name);
                using var response = await client.SendAsync(request, stop);
                var body = await response.Content.ReadAsStringAsync(stop);
                var status = (int)response.StatusCode;
                Count(status.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (response.IsSuccessStatusCode)
                {
                    var at = Now;
                    var json = JsonNode.Parse(body)!;
                    if (image)
                    {
                        var id = json["id"]!.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture);
                        var media = new Uri(json["image"]!.GetValue<string>()).PathAndQuery;
                        _acks.Enqueue(new Ack(org, "image", id, name, media, bytes, at, at - started));
                    }
                    else
                    {
                        var result = json["result"]!;
                        _acks.Enqueue(new Ack(org, "issuer", result["entityId"]!.GetValue<string>(), name, null, null, at, at - started));
                    }
                }
                else if (status == 503)
                {
                    failure = "503";
                    if (response.Headers.RetryAfter is null) { failure = "503 without Retry-After"; violation = true; }
                }
                else if (status == 429 && _options.AllowRateLimited)
                {
                    failure = "429";
                }
                else
                {
                    failure = $"{status} {(image ? "upload" : "issuer POST")}: {Cut(body)}";
                    violation = true;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (TaskCanceledException)
            {
                // Like a connection failure: explained only while the process is dead.
                Count("timeout");
                failure = $"no answer within {_options.RequestTimeout.TotalSeconds:0} s";
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                Count(ex.GetType().Name);
                // Unexplained unless an outage overlaps it; decided when the violations are read.
                failure = $"{ex.GetType().Name}: {ex.Message}";
            }
            if (failure is not null)
            {
                _failures.Enqueue(new Failure(org, failure, started, Now, violation));
                // Back off as a client would: a little after a 503, more after a refused connection
                // (a dead process refuses at once, and a tight loop would slow its restart).
                try { await Task.Delay(failure.StartsWith('5') || failure == "429" ? 20 : 200, stop); } catch (OperationCanceledException) { break; }
            }
        }
    }

    private bool Unexplained(Failure failure)
    {
        if (failure.Violation || failure.What.StartsWith("503", StringComparison.Ordinal) || failure.What == "429") return false;
        lock (_outages) return !_outages.Any(o => o.From <= failure.At && failure.Started <= o.To);
    }

    private void Count(string kind) => _answers.AddOrUpdate(kind, 1, (_, n) => n + 1);

    private HttpRequestMessage NewIssuer(string org, int writer, long n, out string name)
    {
        name = $"Ledger issuer {writer}-{n}";
        var request = Request(HttpMethod.Post, $"/api/credentials/orgs/{org}/users/{_options.User}/issuers/");
        request.Content = new StringContent($$"""{"name":"{{name}}","email":"w{{writer}}@ledger.example"}""", Encoding.UTF8, "application/json");
        return request;
    }

    private HttpRequestMessage NewUpload(string org, int writer, long n, out byte[]? bytes, out string name)
    {
        name = $"Ledger image {writer}-{n}";
        bytes = Png(_imageBase + Interlocked.Increment(ref _imageCounter));
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        var request = Request(HttpMethod.Post, $"/api/credentials/orgs/{org}/users/{_options.User}/images/");
        request.Content = new MultipartFormDataContent { { file, "image", "ledger.png" }, { new StringContent(name, Encoding.UTF8), "name" } };
        return request;
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Api-Token", _token);
        return request;
    }

    private HttpClient DefaultClient(Uri node) => new(new SocketsHttpHandler
    {
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        MaxConnectionsPerServer = 256,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
    })
    {
        BaseAddress = node,
        Timeout = _options.RequestTimeout,
    };

    private static string Cut(string text) => text.Length <= 300 ? text : text[..300] + "…";

    /// <summary>A valid 2×1 RGB PNG whose pixels encode <paramref name="seed"/>, so every upload stores distinct bytes.</summary>
    public static byte[] Png(long seed)
    {
        Span<byte> raw = stackalloc byte[7];
        raw[0] = 0; // filter: none
        var s = BitConverter.GetBytes(seed);
        for (var i = 0; i < 6; i++) raw[1 + i] = s[i];
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) zlib.Write(raw);

        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, 2);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), 1);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typed = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typed);
        data.CopyTo(typed, 4);
        png.Write(typed);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        png.Write(crc);
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        foreach (var client in _clients) client.Dispose();
        lock (_retired) foreach (var client in _retired) client.Dispose();
        _stop.Dispose();
    }
}
