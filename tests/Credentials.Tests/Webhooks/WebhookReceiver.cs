using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Credentials.Tests.Webhooks;

/// <summary>
/// A webhook receiver for tests: Kestrel on a free 127.0.0.1 port that records every POST it gets
/// and answers 204, or <see cref="FailWith"/> while that is set.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Received(string Id, string Timestamp, string Signature, string Body, int Answered)
    {
        public JsonObject Json => JsonNode.Parse(Body)!.AsObject();
        public long EventId => Json["id"]!.GetValue<long>();
        public bool Delivered => Answered is >= 200 and < 300;
    }

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Received> _received = new();

    private WebhookReceiver(WebApplication app, int port) => (_app, Port) = (app, port);

    public int Port { get; }
    public string Url(string path = "/hook") => $"http://127.0.0.1:{Port}{path}";
    /// <summary>While set, every POST is answered with this status.</summary>
    public int? FailWith { get; set; }
    public IReadOnlyList<Received> All => _received.ToArray();
    public IReadOnlyList<Received> Delivered => _received.Where(r => r.Delivered).ToArray();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var port = TestBackends.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, port);
        app.MapPost("/{**path}", receiver.ReceiveAsync);
        await app.StartAsync();
        return receiver;
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var status = FailWith ?? StatusCodes.Status204NoContent;
        var headers = context.Request.Headers;
        _received.Enqueue(new Received(headers["webhook-id"].ToString(), headers["webhook-timestamp"].ToString(), headers["webhook-signature"].ToString(), body, status));
        context.Response.StatusCode = status;
    }

    /// <summary>Whether <paramref name="received"/> carries a valid Standard Webhooks signature for <paramref name="secret"/>, checked from scratch.</summary>
    public static bool IsSigned(Received received, string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{received.Id}.{received.Timestamp}.{received.Body}")));
        return received.Signature.Split(' ').Any(s => s == "v1," + expected);
    }

    /// <summary>Waits until <paramref name="condition"/> holds, failing after <paramref name="deadline"/>.</summary>
    public async Task WaitUntilAsync(Func<WebhookReceiver, bool> condition, TimeSpan deadline, string what)
    {
        using var timeout = new CancellationTokenSource(deadline);
        while (!condition(this))
        {
            if (timeout.IsCancellationRequested) Assert.Fail($"Within {deadline.TotalSeconds} s the receiver did not get {what}; it got {_received.Count} requests.");
            await Task.Delay(50, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
