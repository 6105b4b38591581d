using System.Collections.Concurrent;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using static Credentials.Tests.Telemetry.ProtoReader;

namespace Credentials.Tests.Telemetry;

/// <summary>
/// An OTLP/HTTP (protobuf) collector for tests: Kestrel on a free loopback port accepting
/// <c>POST /v1/traces</c> and <c>POST /v1/metrics</c>, decoding the few fields tests look at.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    public sealed record Span(string Service, string Scope, string Name, string TraceId, string SpanId, string ParentSpanId, IReadOnlyDictionary<string, string> Attributes);

    public sealed record Point(string Service, string Scope, string Metric, IReadOnlyDictionary<string, string> Attributes, double? Value);

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Span> _spans = new();
    private readonly ConcurrentQueue<Point> _points = new();
    private int _posts;

    private OtlpReceiver(WebApplication app) => _app = app;

    public string Endpoint { get; private set; } = "";
    public IEnumerable<Span> Spans => _spans;
    public IEnumerable<Point> Points => _points;
    /// <summary>Export requests received, of either signal.</summary>
    public int Posts => Volatile.Read(ref _posts);

    public static async Task<OtlpReceiver> StartAsync()
    {
        var port = TestBackends.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app) { Endpoint = $"http://127.0.0.1:{port}" };
        app.MapPost("/v1/traces", context => receiver.Receive(context, receiver.ReadTraces));
        app.MapPost("/v1/metrics", context => receiver.Receive(context, receiver.ReadMetrics));
        await app.StartAsync();
        return receiver;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing after <paramref name="deadline"/>.</summary>
    public async Task WaitUntilAsync(Func<OtlpReceiver, bool> condition, TimeSpan deadline, string what)
    {
        using var timeout = new CancellationTokenSource(deadline);
        while (!condition(this))
        {
            if (timeout.IsCancellationRequested) Assert.Fail($"Within {deadline.TotalSeconds} s the receiver did not get {what}.");
            await Task.Delay(50, CancellationToken.None);
        }
    }

    private async Task Receive(HttpContext context, Action<ReadOnlyMemory<byte>> read)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        read(body.ToArray());
        Interlocked.Increment(ref _posts);
        context.Response.ContentType = "application/x-protobuf";
    }

    /// <summary>The spans of one trace received so far.</summary>
    public Span[] Trace(string traceId) => _spans.Where(s => s.TraceId == traceId).ToArray();

    // Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 9 attributes.
    private void ReadTraces(ReadOnlyMemory<byte> request)
    {
        foreach (var (service, scope, span) in Items(request))
        {
            var fields = Fields(span).ToList();
            string Bytes(int n) => fields.FirstOrDefault(f => f.Number == n && f.WireType == 2).Hex;
            _spans.Enqueue(new Span(service, scope, fields.First(f => f.Number == 5).Text, Bytes(1), Bytes(2), Bytes(4), Attributes(span, 9)));
        }
    }

    // Metric: 1 name, 5 gauge / 7 sum { 1 NumberDataPoint { 7 attributes, 4 as_double, 6 as_int } }, 9 histogram { 1 points { 9 attributes } }.
    private void ReadMetrics(ReadOnlyMemory<byte> request)
    {
        foreach (var (service, scope, metric) in Items(request))
        {
            var name = System.Text.Encoding.UTF8.GetString(One(metric, 1).Span);
            foreach (var (kind, attributesField) in new[] { (5, 7), (7, 7), (9, 9) })
            {
                foreach (var point in All(One(metric, kind), 1))
                {
                    var value = Fields(point).Where(f => f.Number is 4 or 6 && kind != 9)
                        .Select(f => f.Number == 4 ? f.Double : (long)f.Value).Cast<double?>().FirstOrDefault();
                    _points.Enqueue(new Point(service, scope, name, Attributes(point, attributesField), value));
                }
            }
        }
    }

    // Export{Trace,Metrics}ServiceRequest: 1 Resource{Spans,Metrics} { 1 Resource, 2 Scope{Spans,Metrics} { 1 Scope, 2 item } }.
    private static IEnumerable<(string Service, string Scope, ReadOnlyMemory<byte> Item)> Items(ReadOnlyMemory<byte> request)
    {
        foreach (var resourceGroup in All(request, 1))
        {
            var service = ServiceOf(resourceGroup);
            foreach (var scopeGroup in All(resourceGroup, 2))
            {
                var scope = ScopeName(scopeGroup);
                foreach (var item in All(scopeGroup, 2)) yield return (service, scope, item);
            }
        }
    }

    private static string ServiceOf(ReadOnlyMemory<byte> resourceGroup) =>
        Attributes(One(resourceGroup, 1), 1).GetValueOrDefault("service.name", "");

    private static string ScopeName(ReadOnlyMemory<byte> scopeGroup) =>
        System.Text.Encoding.UTF8.GetString(One(One(scopeGroup, 1), 1).Span);

    // KeyValue { 1 key, 2 AnyValue { 1 string, 2 bool, 3 int, 4 double } }.
    private static Dictionary<string, string> Attributes(ReadOnlyMemory<byte> message, int number)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var pair in All(message, number))
        {
            var key = System.Text.Encoding.UTF8.GetString(One(pair, 1).Span);
            var value = Fields(One(pair, 2)).FirstOrDefault();
            attributes[key] = value.Number switch
            {
                1 => value.Text,
                2 => (value.Value != 0).ToString(),
                3 => ((long)value.Value).ToString(),
                4 => value.Double.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            };
        }
        return attributes;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
