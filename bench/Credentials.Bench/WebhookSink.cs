using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Credentials.Bench;

/// <summary>
/// The webhook receiver of the write-webhook scenario: Kestrel on a free loopback port in this
/// process answering every delivery 204 and counting them. The service must run with
/// <c>Webhooks:AllowInsecureTargets=true</c> (bench/run.sh sets it) to deliver to loopback.
/// </summary>
public sealed class WebhookSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _received;

    private WebhookSink(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;
    public long Received => Interlocked.Read(ref _received);

    public static async Task<WebhookSink> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        var sink = new WebhookSink(app);
        app.Run(async context =>
        {
            // Read the body as a receiver verifying the signature would.
            await context.Request.Body.CopyToAsync(Stream.Null);
            Interlocked.Increment(ref sink._received);
            context.Response.StatusCode = 204;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sink.Url = new Uri(new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)), "hook");
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
