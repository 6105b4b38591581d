using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Credentials.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Credentials.Tests.Abuse;

/// <summary>
/// B6: the HTTP-level parsers (JSON, urlencoded and multipart bodies, query strings) answer any
/// body with a 2xx or a 4xx problem+json, never a 500 and never a hang, at a cost linear in its
/// size. Each hostile request goes through the real in-process host beside a benign request of
/// the same size to the same endpoint, at two sizes eight times apart; its wall time and the bytes
/// the process allocated for it must stay within a small multiple of the benign one's at both.
/// </summary>
[Collection(AbuseCollection.Name)]
[Trait("Category", "Abuse")]
public sealed class RequestParserAbuseTests(RequestParserAbuseTests.Service service, ITestOutputHelper output)
    : IClassFixture<RequestParserAbuseTests.Service>
{
    private const int Small = 32 * 1024;
    private const int Large = 8 * Small; // under Api:MaxBodyBytes (1 MiB): the parsers see it all
    /// <summary>Kestrel refuses a request line over 8 KiB (414) before the app sees it; query strings are measured up to that.</summary>
    private const int SmallQuery = 1024;
    private const int LargeQuery = 8 * SmallQuery - 200;
    /// <summary>
    /// Beside the cheapest body per byte there is (one long JSON string), token-dense JSON costs any
    /// parser several times more per byte; quadratic work is what this bound is for, and the growth
    /// bound below (hostile at the large size against itself at the small one) catches it too.
    /// </summary>
    private const double TimeRatio = 10;
    private const double AllocationRatio = 5;
    private const long AllocationSlack = 1024 * 1024;
    /// <summary>Linear work grows with the size; this much more is allowed for caches and noise.</summary>
    private const double GrowthSlack = 2;
    private const int Runs = 2;
    /// <summary>On a busy machine a bound may miss by noise: measure again (best of all runs so far) before failing.</summary>
    private const int Rounds = 3;
    /// <summary>A safety net against a hung request, not the bound: the ratios are.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private const string Json = "application/json";
    private const string UrlEncoded = "application/x-www-form-urlencoded";
    private const string Boundary = "abuse-boundary-7d2f";
    private const string MultipartType = "multipart/form-data; boundary=" + Boundary;

    // ---- the corpus -----------------------------------------------------------------------------

    /// <summary>A hostile issuer body of about n bytes: its content type and bytes.</summary>
    private delegate (string ContentType, byte[] Body) Body(int n);

    private static readonly Dictionary<string, Body> HostileIssuerBodies = new()
    {
        // JSON
        ["json: arrays nested n/2 deep"] = n => (Json, Bytes(new string('[', n / 2) + new string(']', n / 2))),
        ["json: objects nested deep"] = n => (Json, Bytes(Repeat(n, "", "{\"a\":", "1") + new string('}', n / 5))),
        ["json: deep nesting in an ignored field"] = n => (Json, Bytes("{\"name\":\"x\",\"p\":" + new string('[', n / 2) + new string(']', n / 2) + "}")),
        ["json: deep nesting, unclosed"] = n => (Json, Bytes(new string('[', n))),
        ["json: tiny keys"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\"", i => $",\"{i}\":0", "}"))),
        ["json: one key duplicated"] = n => (Json, Bytes(Repeat(n, "{", "\"name\":\"x\",", "\"name\":\"y\"}"))),
        ["json: signatories duplicated"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\"", ",\"signatories\":{\"a\":\"b\"}", "}"))),
        ["json: NUL escapes"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\",\"p\":\"", "\\u0000", "\"}"))),
        ["json: escaped surrogate pairs in name"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"", "\\ud83d\\ude00", "\"}"))),
        ["json: unpaired surrogates in name"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"", "\\ud800", "\"}"))),
        ["json: unpaired surrogates in an ignored field"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\",\"p\":\"", "\\udc00", "\"}"))),
        ["json: unpaired surrogate property names"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\"", i => $",\"\\ud800{i}\":0", "}"))),
        ["json: every escape"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\",\"p\":\"", "\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"}"))),
        ["json: number of n digits as name"] = n => (Json, Bytes(Repeat(n, "{\"name\":1", "9", "}"))),
        ["json: number of n digits ignored"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\",\"p\":1", "0", "e999999}"))),
        ["json: number with a huge exponent"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\",\"p\":1e", "9", "}"))),
        ["json: many signatories"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\",\"signatories\":{\"k\":\"v\"", i => $",\"k{i}\":\"v\"", "}}"))),
        ["json: many tags"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\",\"allowed_template_tags\":[\"t\"", ",\"t\"", "]}"))),
        ["json: whitespace"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\"", " \n\t\r", "}"))),
        ["json: comments"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"x\"", "/**/", "}"))),
        ["json: unterminated string"] = n => (Json, Bytes(Repeat(n, "{\"name\":\"", "a", ""))),
        ["json: invalid UTF-8"] = n => (Json, [.. Bytes("{\"name\":\"x\",\"p\":\""), .. Enumerable.Repeat((byte)0xC0, n), .. Bytes("\"}")]),
        ["json: UTF-8 BOMs"] = n => (Json, [.. Enumerable.Repeat(new byte[] { 0xEF, 0xBB, 0xBF }, n / 3).SelectMany(b => b), .. Bytes("{}")]),
        // application/x-www-form-urlencoded
        ["form: & flood"] = n => (UrlEncoded, Bytes("name=x" + new string('&', n))),
        ["form: = flood"] = n => (UrlEncoded, Bytes("name=x&" + new string('=', n))),
        ["form: tiny fields"] = n => (UrlEncoded, Bytes(Repeat(n, "name=x", i => $"&{i}=", ""))),
        ["form: repeated tags"] = n => (UrlEncoded, Bytes(Repeat(n, "name=x", "&allowed_template_tags=t", ""))),
        ["form: repeated name"] = n => (UrlEncoded, Bytes(Repeat(n, "name=x", "&name=x", ""))),
        ["form: percent-encoding flood"] = n => (UrlEncoded, Bytes(Repeat(n, "name=x&p=", "%C4%B0", ""))),
        ["form: broken percent-encoding"] = n => (UrlEncoded, Bytes(Repeat(n, "name=x&p=", "%%E", ""))),
        ["form: + flood"] = n => (UrlEncoded, Bytes("name=x&p=" + new string('+', n))),
        ["form: one long key"] = n => (UrlEncoded, Bytes("name=x&" + new string('k', n) + "=1")),
        ["form: signatories as deep JSON"] = n => (UrlEncoded, Bytes("name=x&signatories=" + new string('[', n))),
        ["form: signatories as JSON with many entries"] = n => (UrlEncoded, Bytes(Repeat(n, "name=x&signatories=%7B%22k%22:%22v%22", i => $",%22k{i}%22:%22v%22", "%7D"))),
        // multipart/form-data
        ["multipart: tiny parts"] = n => (MultipartType, Multipart(n, i => Part($"f{i}", ""))),
        ["multipart: boundary-like lines in a value"] = n => (MultipartType, Multipart(Part("name", "x") + Part("p", Fill(n, "\r\n--" + Boundary[..^1] + "X")))),
        ["multipart: boundary prefixes in a value"] = n => (MultipartType, Multipart(Part("name", "x") + Part("p", Fill(n, "--" + Boundary[..8])))),
        ["multipart: CR LF flood in a value"] = n => (MultipartType, Multipart(Part("name", "x") + Part("p", Fill(n, "\r\n")))),
        ["multipart: one huge part header"] = n => (MultipartType, Multipart(PartWith("p", "x", "X-Pad: " + new string('a', n)))),
        ["multipart: many headers in a part"] = n => (MultipartType, Multipart(PartWith("p", "x", Fill(n, "X-A: 1\r\n").TrimEnd()))),
        ["multipart: a long disposition"] = n => (MultipartType, Multipart(PartWith("p", "x", "Content-Disposition: form-data; name=q" + Fill(n, "; a=b")))),
        ["multipart: boundary of n bytes"] = n => ("multipart/form-data; boundary=" + new string('b', n), Bytes("--" + new string('b', n) + "--\r\n")),
        ["multipart: no final boundary"] = n => (MultipartType, Bytes(Part("name", "x") + Part("p", new string('a', n)))),
        ["multipart: LF line endings"] = n => (MultipartType, Bytes((Part("name", "x") + Part("p", new string('a', n)) + $"--{Boundary}--\r\n").Replace("\r\n", "\n"))),
        ["multipart: CR LF and LF mixed"] = n => (MultipartType, Bytes(Repeat(n, $"--{Boundary}\nContent-Disposition: form-data; name=\"p\"\r\n\n", "a\n\r", $"\r\n--{Boundary}--\r\n"))),
        ["multipart: file parts"] = n => (MultipartType, Multipart(n, i => PartWith($"f{i}", "", $"Content-Disposition: form-data; name=\"f\"; filename=\"{i}.txt\""))),
    };

    private static readonly Dictionary<string, Body> HostileImageBodies = new()
    {
        ["image: tiny parts"] = n => (MultipartType, Multipart(n, i => Part($"f{i}", ""))),
        ["image: boundary-like lines in the file"] = n => (MultipartType, Multipart(FilePart(Fill(n, "\r\n--" + Boundary[..^1] + "X")))),
        ["image: boundary prefixes in the file"] = n => (MultipartType, Multipart(FilePart(Fill(n, "\r\n-")))),
        ["image: one huge part header"] = n => (MultipartType, Multipart(PartWith("image", "x", ImageDisposition + "\r\nX-Pad: " + new string('a', n)))),
        ["image: many headers in a part"] = n => (MultipartType, Multipart(PartWith("image", "x", ImageDisposition + "\r\n" + Fill(n, "X-A: 1\r\n").TrimEnd()))),
        ["image: a long file name"] = n => (MultipartType, Multipart(PartWith("image", "x", $"Content-Disposition: form-data; name=\"image\"; filename=\"{new string('n', n)}.svg\""))),
        ["image: boundary of n bytes"] = n => ("multipart/form-data; boundary=" + new string('b', n), Bytes("--" + new string('b', n) + "--\r\n")),
        ["image: no final boundary"] = n => (MultipartType, Bytes(FilePart(new string('a', n)))),
        ["image: many file parts"] = n => (MultipartType, Multipart(n, i => PartWith("image", "", $"Content-Disposition: form-data; name=\"image\"; filename=\"{i}.svg\""))),
        ["image: many name fields"] = n => (MultipartType, Multipart(n, _ => Part("name", "x"))),
        ["image: urlencoded flood"] = n => (UrlEncoded, Bytes(new string('&', n))),
    };

    /// <summary>Hostile query strings (without the '?') of about n bytes, for both list endpoints.</summary>
    private static readonly Dictionary<string, Func<int, string>> HostileQueries = new()
    {
        ["query: tiny parameters"] = n => Repeat(n, "", i => $"{i}=&", ""),
        ["query: & flood"] = n => new string('&', n),
        ["query: = flood"] = n => new string('=', n),
        ["query: one parameter repeated"] = n => Repeat(n, "", "q=a&query=a&", ""),
        ["query: limit of n digits"] = n => Repeat(n, "q=a&query=a&limit=", "9", ""),
        ["query: limit of n zeros"] = n => Repeat(n, "q=a&query=a&limit=-", "0", ""),
        ["query: offset of n digits"] = n => Repeat(n, "q=a&query=a&offset=", "9", ""),
        ["query: limit repeated"] = n => Repeat(n, "q=a&query=a", "&limit=5", ""),
        ["query: percent-encoded dotted I"] = n => Repeat(n, "q=", "%C4%B0", "") + "&query=%C4%B0",
        ["query: long q of case-folding letters"] = n => Repeat(n / 2, "q=", "%C3%9F%EF%AC%80%C7%85", "") + Repeat(n / 2, "&query=", "%C3%9F%EF%AC%80%C7%85", ""),
        ["query: long q of unpaired surrogates"] = n => Repeat(n, "q=", "%ED%A0%80", "") + "&query=%ED%A0%80",
        ["query: broken percent-encoding"] = n => Repeat(n, "q=", "%%E", "") + "&query=%",
        ["query: + flood"] = n => "q=" + new string('+', n / 2) + "&query=" + new string('+', n / 2),
    };

    /// <summary>Hostile JSON for the platform and token POSTs.</summary>
    private static readonly Dictionary<string, Func<int, string>> HostileAdminJson = new()
    {
        ["admin json: nested deep"] = n => new string('[', n / 2) + new string(']', n / 2),
        ["admin json: nested deep in a field"] = n => "{\"key\":\"k\",\"name\":\"n\",\"p\":" + new string('{', n / 2) + "}",
        ["admin json: tiny keys"] = n => Repeat(n, "{\"key\":\"k\",\"name\":\"n\"", i => $",\"{i}\":0", "}"),
        ["admin json: one key duplicated"] = n => Repeat(n, "{", "\"name\":\"n\",\"key\":\"k\",", "\"p\":0}"),
        ["admin json: unpaired surrogates"] = n => Repeat(n, "{\"key\":\"k\",\"name\":\"", "\\ud800", "\"}"),
        ["admin json: unpaired surrogate names"] = n => Repeat(n, "{\"key\":\"k\"", i => $",\"\\udfff{i}\":0", "}"),
        ["admin json: number of n digits"] = n => Repeat(n, "{\"key\":\"k\",\"name\":1", "1", "}"),
        ["admin json: unterminated"] = n => Repeat(n, "{\"key\":\"", "k", ""),
    };

    public static TheoryData<string> IssuerCases => [.. HostileIssuerBodies.Keys];
    public static TheoryData<string> ImageCases => [.. HostileImageBodies.Keys];
    public static TheoryData<string> QueryCases => [.. HostileQueries.Keys];
    public static TheoryData<string> AdminCases => [.. HostileAdminJson.Keys];

    // ---- the tests ------------------------------------------------------------------------------

    [Theory, MemberData(nameof(IssuerCases))]
    public async Task A_hostile_issuer_create_costs_no_more_than_a_plain_one_of_its_size(string name) =>
        await AssertLinearAsync(name, n => Send(HttpMethod.Post, service.IssuersUrl, HostileIssuerBodies[name](n)),
            n => Send(HttpMethod.Post, service.IssuersUrl, BenignIssuer(HostileIssuerBodies[name](n))));

    /// <summary>PUT and PATCH share the parser; one hostile body of each encoding shows they reach it.</summary>
    [Theory]
    [InlineData("json: arrays nested n/2 deep"), InlineData("json: unpaired surrogate property names"), InlineData("form: tiny fields")]
    [InlineData("multipart: file parts")]
    public async Task A_hostile_issuer_replace_or_patch_costs_no_more_than_a_plain_one(string name)
    {
        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Patch })
        {
            await AssertLinearAsync($"{method} {name}", n => Send(method, service.IssuerUrl, HostileIssuerBodies[name](n)),
                n => Send(method, service.IssuerUrl, BenignIssuer(HostileIssuerBodies[name](n))));
        }
    }

    [Theory, MemberData(nameof(ImageCases))]
    public async Task A_hostile_image_upload_costs_no_more_than_a_plain_one_of_its_size(string name) =>
        await AssertLinearAsync(name, n => Send(HttpMethod.Post, service.ImagesUrl, HostileImageBodies[name](n)),
            n => Send(HttpMethod.Post, service.ImagesUrl, BenignImage(HostileImageBodies[name](n).Body.Length)));

    [Theory, MemberData(nameof(QueryCases))]
    public async Task A_hostile_list_query_costs_no_more_than_a_plain_one_of_its_size(string name)
    {
        foreach (var url in new[] { service.IssuersUrl, service.ImagesUrl })
        {
            await AssertLinearAsync($"{url}: {name}", n => Send(HttpMethod.Get, url + "?" + HostileQueries[name](n)),
                n => Send(HttpMethod.Get, url + "?" + BenignQuery(HostileQueries[name](n).Length)), sizes: [SmallQuery, LargeQuery - url.Length]);
        }
    }

    [Theory, MemberData(nameof(AdminCases))]
    public async Task A_hostile_platform_or_token_create_costs_no_more_than_a_plain_one(string name)
    {
        foreach (var url in new[] { "/api/platforms/", service.TokensUrl })
        {
            await AssertLinearAsync($"{url}: {name}", n => Send(HttpMethod.Post, url, (Json, Bytes(HostileAdminJson[name](n)))),
                n => Send(HttpMethod.Post, url, (Json, Bytes(BenignAdmin(HostileAdminJson[name](n).Length)))));
        }
    }

    [Theory]
    [InlineData("issuer"), InlineData("platform"), InlineData("token")]
    public async Task A_body_declared_over_the_limit_is_refused_before_it_is_read(string endpoint)
    {
        var url = endpoint switch { "issuer" => service.IssuersUrl, "platform" => "/api/platforms/", _ => service.TokensUrl };
        using var response = await service.Client.SendAsync(Send(HttpMethod.Post, url, (Json, Bytes(Repeat(2 * 1024 * 1024, "{\"p\":\"", "a", "\"}")))));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await response.ProblemAsync();
    }

    [Theory]
    [InlineData("issuer", "application/json; charset=no-such-charset")]
    [InlineData("platform", "application/json; charset=no-such-charset")]
    [InlineData("token", "application/json; charset=no-such-charset")]
    [InlineData("token", "application/json; charset=utf-7")]
    [InlineData("issuer", "application/x-www-form-urlencoded; charset=no-such-charset")]
    [InlineData("issuer", "multipart/form-data; charset=no-such-charset; boundary=" + Boundary)]
    public async Task A_body_in_an_unknown_charset_is_a_client_error(string endpoint, string contentType)
    {
        var url = endpoint switch { "issuer" => service.IssuersUrl, "platform" => "/api/platforms/", _ => service.TokensUrl };
        var body = contentType.StartsWith("multipart", StringComparison.Ordinal) ? Multipart(Part("name", "x"))
            : contentType.StartsWith("application/x-www", StringComparison.Ordinal) ? Bytes("name=x") : Bytes("{\"name\":\"x\",\"key\":\"k\"}");
        using var response = await service.Client.SendAsync(Send(HttpMethod.Post, url, (contentType, body)));
        AssertAcceptable(contentType, response, await response.Content.ReadAsStringAsync(), mustSucceed: false);
    }

    /// <summary>
    /// The request line and headers never reach the app past Kestrel's limits (8 KiB and 32 KiB):
    /// a huge query string or header is refused by the server itself, at no cost to the parsers.
    /// </summary>
    /// <summary>
    /// Twice the 32 KiB header limit: far past every limit, yet small enough that the client has
    /// finished writing when the server answers and closes (1 MiB raced it: a broken pipe, not a 431).
    /// </summary>
    private const int OverLimit = 64 * 1024;

    [Fact]
    public async Task Kestrel_refuses_huge_query_strings_and_headers_before_the_app()
    {
        await using var factory = new ApiFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        using var client = factory.AdminClient();
        var org = await client.CreatePlatformAsync();

        using var query = await client.GetAsync(TestRequests.Issuers(org) + "?" + Repeat(OverLimit, "q=", "%C4%B0", ""));
        Assert.Equal(HttpStatusCode.RequestUriTooLong, query.StatusCode);
        using var parameters = await client.GetAsync(TestRequests.Issuers(org) + "?" + Repeat(OverLimit, "", "a=&", ""));
        Assert.Equal(HttpStatusCode.RequestUriTooLong, parameters.StatusCode);

        using var header = new HttpRequestMessage(HttpMethod.Get, TestRequests.Issuers(org));
        header.Headers.TryAddWithoutValidation("X-Pad", new string('a', OverLimit));
        using var refused = await client.SendAsync(header);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, refused.StatusCode);

        using var headers = new HttpRequestMessage(HttpMethod.Get, TestRequests.Issuers(org));
        for (var i = 0; i < 5_000; i++) headers.Headers.TryAddWithoutValidation($"X-{i}", "1");
        using var refusedMany = await client.SendAsync(headers);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, refusedMany.StatusCode);

        // A body of unknown length (chunked) is cut at Api:MaxBodyBytes, for every JSON endpoint.
        foreach (var url in new[] { TestRequests.Issuers(org), "/api/platforms/", $"/api/platforms/{org}/tokens/" })
        {
            using var chunked = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new StreamContent(new MemoryStream(Bytes(Repeat(1024 * 1024 + OverLimit, "{\"name\":\"x\",\"key\":\"k\",\"p\":\"", "a", "\"}")))),
            };
            chunked.Content.Headers.ContentType = new MediaTypeHeaderValue(Json);
            chunked.Headers.TransferEncodingChunked = true;
            using var cut = await client.SendAsync(chunked);
            Assert.True(cut.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{url}: {(int)cut.StatusCode} {await cut.Content.ReadAsStringAsync()}");
            await cut.ProblemAsync();
        }

        // The server still serves an ordinary request.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(TestRequests.Issuers(org))).StatusCode);
    }

    // ---- measuring ------------------------------------------------------------------------------

    private readonly record struct Cost(double Seconds, long Bytes);

    /// <param name="benignRefused">The benign request is refused by the service's rules (400) after being read in full.</param>
    private async Task AssertLinearAsync(string name, Func<int, HttpRequestMessage> hostile, Func<int, HttpRequestMessage> benign, int[]? sizes = null)
    {
        sizes ??= [Small, Large];
        var costs = sizes.Select(_ => (Hostile: new Cost(double.MaxValue, long.MaxValue), Benign: new Cost(double.MaxValue, long.MaxValue))).ToArray();
        for (var round = 1; ; round++)
        {
            for (var i = 0; i < sizes.Length; i++)
            {
                // Warm up both paths (JIT, pools), then the best of interleaved runs: the least disturbed.
                if (round == 1)
                {
                    await MeasureAsync(name, hostile, sizes[i]);
                    await MeasureAsync(name, benign, sizes[i], mustSucceed: true);
                }
                for (var run = 0; run < Runs; run++)
                {
                    costs[i].Hostile = Best(costs[i].Hostile, await MeasureAsync(name, hostile, sizes[i]));
                    costs[i].Benign = Best(costs[i].Benign, await MeasureAsync(name, benign, sizes[i], mustSucceed: true));
                }
            }
            var failure = Check(name, costs, (double)sizes[1] / sizes[0]);
            if (failure is null) return;
            if (round == Rounds) Assert.Fail(failure);
        }
    }

    private static Cost Best(Cost a, Cost b) => new(Math.Min(a.Seconds, b.Seconds), Math.Min(a.Bytes, b.Bytes));

    private string? Check(string name, (Cost Hostile, Cost Benign)[] costs, double growth)
    {
        var report = string.Join("; ", costs.Select(c =>
            $"hostile {c.Hostile.Seconds * 1000:0.0} ms {c.Hostile.Bytes / 1024} KiB vs benign {c.Benign.Seconds * 1000:0.0} ms {c.Benign.Bytes / 1024} KiB"));
        output.WriteLine($"{name}: {report}");
        // Slack: the benign request at the small size (timer, scheduling and per-request noise).
        var slack = costs[0].Benign.Seconds;
        foreach (var (h, b) in costs)
        {
            if (h.Seconds > TimeRatio * b.Seconds + slack) return $"{name}: time over {TimeRatio}× benign: {report}";
            if (h.Bytes > AllocationRatio * b.Bytes + AllocationSlack) return $"{name}: allocation over {AllocationRatio}× benign: {report}";
        }
        // Growth from the small size is measured from the dearer of the two small requests: a hostile
        // input refused at once (cheaper than the benign one) would otherwise make the ratio noise, while
        // a superlinear one (64x for 8x the size) still fails. The benign large cost is the time slack.
        var small = new Cost(Math.Max(costs[0].Hostile.Seconds, costs[0].Benign.Seconds), Math.Max(costs[0].Hostile.Bytes, costs[0].Benign.Bytes));
        var large = costs[1].Hostile;
        if (large.Seconds > GrowthSlack * growth * small.Seconds + Math.Max(slack, costs[1].Benign.Seconds)) return $"{name}: time grows faster than the size: {report}";
        if (large.Bytes > GrowthSlack * growth * small.Bytes + AllocationSlack) return $"{name}: allocation grows faster than the size: {report}";
        return null;
    }

    /// <summary>Sends one request, checks its answer, and returns what it cost the process.</summary>
    private async Task<Cost> MeasureAsync(string name, Func<int, HttpRequestMessage> build, int size, bool mustSucceed = false)
    {
        using var request = build(size);
        using var deadline = new CancellationTokenSource(Deadline);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var start = Stopwatch.GetTimestamp();
        using var response = await service.Client.SendAsync(request, deadline.Token);
        var body = await response.Content.ReadAsStringAsync(deadline.Token);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
        AssertAcceptable(name, response, body, mustSucceed);
        return new Cost(seconds, bytes);
    }

    private static void AssertAcceptable(string name, HttpResponseMessage response, string body, bool mustSucceed)
    {
        var status = (int)response.StatusCode;
        var what = $"{name}: {status} {body[..Math.Min(body.Length, 300)]}";
        if (mustSucceed)
        {
            Assert.True(status is >= 200 and < 300, "benign request refused: " + what);
            return;
        }
        Assert.True(status is >= 200 and < 300 or 400 or 413 or 415, what);
        if (status >= 400) Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", what);
    }

    // ---- requests -------------------------------------------------------------------------------

    private static HttpRequestMessage Send(HttpMethod method, string url, (string ContentType, byte[] Body)? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is { } b)
        {
            request.Content = new ByteArrayContent(b.Body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", b.ContentType);
        }
        return request;
    }

    /// <summary>A valid issuer write of the same encoding and size: the extra bytes in a field the parser ignores.</summary>
    private static (string, byte[]) BenignIssuer((string ContentType, byte[] Body) hostile)
    {
        var n = hostile.Body.Length;
        if (hostile.ContentType == Json) return (Json, Bytes(Repeat(n, "{\"name\":\"Benign issuer\",\"p\":\"", "a", "\"}")));
        if (hostile.ContentType == UrlEncoded) return (UrlEncoded, Bytes(Repeat(n, "name=Benign+issuer&p=", "a", "")));
        return (MultipartType, Multipart(Part("name", "Benign issuer") + Part("p", new string('a', Math.Max(0, n - 200)))));
    }

    private static (string, byte[]) BenignImage(int n) =>
        (MultipartType, Multipart(FilePart(Encoding.UTF8.GetString(UploadInspectionAbuseTests.PlainSvg(Math.Max(1024, n - 200))))));

    private static string BenignQuery(int n) => Repeat(n, "q=", "a", "") + "&query=a";

    /// <summary>A new platform or token (the key names the platform, the name the token), padded in an ignored field.</summary>
    private static string BenignAdmin(int n)
    {
        var fresh = "p-" + Guid.NewGuid().ToString("N")[..20];
        return Repeat(n, $"{{\"key\":\"{fresh}\",\"name\":\"{fresh}\",\"p\":\"", "a", "\"}");
    }

    // ---- building blocks ------------------------------------------------------------------------

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Repeat(int size, string head, string unit, string tail)
    {
        var builder = new StringBuilder(size + unit.Length).Append(head);
        while (builder.Length + unit.Length + tail.Length <= size) builder.Append(unit);
        return builder.Append(tail).ToString();
    }

    private static string Repeat(int size, string head, Func<int, string> unit, string tail)
    {
        var builder = new StringBuilder(size + 32).Append(head);
        for (var i = 0; builder.Length + tail.Length < size - 16; i++) builder.Append(unit(i));
        return builder.Append(tail).ToString();
    }

    private static string Fill(int size, string unit) => Repeat(size, "", unit, "");

    private const string ImageDisposition = "Content-Disposition: form-data; name=\"image\"; filename=\"a.svg\"\r\nContent-Type: image/svg+xml";

    private static string Part(string name, string value) => PartWith(name, value, $"Content-Disposition: form-data; name=\"{name}\"");

    private static string PartWith(string name, string value, string headers) => $"--{Boundary}\r\n{headers}\r\n\r\n{value}\r\n";

    private static string FilePart(string content) => PartWith("image", content, ImageDisposition);

    private static byte[] Multipart(string parts) => Bytes(parts + $"--{Boundary}--\r\n");

    private static byte[] Multipart(int size, Func<int, string> part)
    {
        var builder = new StringBuilder(size + 256);
        for (var i = 0; builder.Length < size - 64; i++) builder.Append(part(i));
        return Multipart(builder.ToString());
    }

    /// <summary>One service for the class: an org with one issuer and one image, and its admin.</summary>
    public sealed class Service : IAsyncLifetime
    {
        private readonly ApiFactory _factory = new();
        public HttpClient Client { get; private set; } = null!;
        public string IssuersUrl { get; private set; } = "";
        public string IssuerUrl { get; private set; } = "";
        public string ImagesUrl { get; private set; } = "";
        public string TokensUrl { get; private set; } = "";

        public async Task InitializeAsync()
        {
            Client = _factory.AdminClient();
            Client.Timeout = Deadline;
            var org = await Client.CreatePlatformAsync();
            IssuersUrl = TestRequests.Issuers(org);
            var issuer = await Client.CreateIssuerAsync(org, new { name = "Existing issuer" });
            IssuerUrl = TestRequests.Issuer(org, issuer["entityId"]!.GetValue<string>());
            ImagesUrl = $"/api/credentials/orgs/{org}/users/admin/images/";
            TokensUrl = $"/api/platforms/{org}/tokens/";
            using var upload = Send(HttpMethod.Post, ImagesUrl, BenignImage(2048));
            var uploaded = await Client.SendAsync(upload);
            Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);
        }

        public async Task DisposeAsync()
        {
            Client.Dispose();
            await _factory.DisposeAsync();
        }
    }
}
