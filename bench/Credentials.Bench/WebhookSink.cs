namespace Credentials.Bench;

/// <summary>
/// The webhook receiver of the write-webhook scenario: Kestrel on a free loopback port in this
/// process answering every delivery 204 and counting them. The service must run with
/// <c>Webhooks:AllowInsecureTargets=true</c> (bench/run.sh sets it) to deliver to loopback.
/// </summary>
public sealed class WebhookSink : IAsyncDisposable
{
    private WebApplication _app = null!;
    private long _received;

    public Uri Url { get; private set; } = null!;
    public long Received => Interlocked.Read(ref _received);

    public static async Task<WebhookSink> StartAsync()
    {
        var sink = new WebhookSink();
        var (app, url) = await CeilingServer.StartLoopbackAsync(async context =>
        {
            // Read the body as a receiver verifying the signature would.
            await context.Request.Body.CopyToAsync(Stream.Null);
            Interlocked.Increment(ref sink._received);
            context.Response.StatusCode = 204;
        });
        (sink._app, sink.Url) = (app, new Uri(url, "hook"));
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
