using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Credentials.Bench;

/// <summary>
/// The ceiling: a bare Kestrel endpoint in this process, on a free loopback port, answering every
/// request with the same bytes from memory (a real issuer list page). No routing, auth, Orleans or
/// storage: what HTTP alone costs on this machine with this load generator.
/// </summary>
public sealed class CeilingServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CeilingServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<CeilingServer> StartAsync(byte[] body)
    {
        var (app, url) = await StartLoopbackAsync(context =>
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body).AsTask();
        });
        return new CeilingServer(app, url);
    }

    /// <summary>A bare Kestrel on a free loopback port answering every request with <paramref name="handler"/>; also the webhook sink's.</summary>
    public static async Task<(WebApplication App, Uri Url)> StartLoopbackAsync(RequestDelegate handler)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, 0); // the OS picks a free port
        });
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        return (app, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
