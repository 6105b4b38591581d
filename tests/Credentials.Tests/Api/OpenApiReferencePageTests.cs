using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Api;

/// <summary>
/// Issue 11: the reference page at /scalar renders every documented operation in a real browser
/// (Debian's headless Chromium, which scripts/test.sh installs), served by Kestrel on a real port.
/// The browser may resolve no host but this one, so the page proves it needs nothing from outside.
/// </summary>
public sealed class OpenApiReferencePageTests : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly ApiFactory _factory = new();

    public Task InitializeAsync()
    {
        _factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        _factory.StartServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task The_reference_page_renders_every_operation_in_headless_Chromium_without_a_policy_refusal()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/test.sh, which installs Debian's chromium package.");
        var address = _factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var document = await OpenApiDocument.LoadAsync(_factory);
        var operations = document.Operations().ToArray();
        Assert.NotEmpty(operations);

        var (dom, log) = await RenderAsync($"{address}/scalar/");

        var missing = operations
            .Where(op => !Regex.IsMatch(dom, $"id=\"v1/tag/[^\"/]+/{op.Method.ToUpperInvariant()}{Regex.Escape(op.Path)}\""))
            .Select(op => $"{op.Method.ToUpperInvariant()} {op.Path}")
            .ToArray();
        Assert.True(missing.Length == 0, $"not rendered: {string.Join(", ", missing)}");
        var refusals = log.Split('\n').Where(line => line.Contains("Content Security Policy", StringComparison.Ordinal)).ToArray();
        Assert.True(refusals.Length == 0, string.Join("\n", refusals));
    }

    /// <summary>The DOM after the page's scripts ran (virtual time lets them finish), and the browser's console log.</summary>
    private static async Task<(string Dom, string Log)> RenderAsync(string url)
    {
        var profile = TestBackends.NewTempDirectory();
        var start = new ProcessStartInfo(Chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-dev-shm-usage", $"--user-data-dir={profile}",
            // Any host but this machine fails to resolve: a page that needed a CDN would not render.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=30000", "--dump-dom", url,
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var browser = Process.Start(start)!;
        var dom = browser.StandardOutput.ReadToEndAsync();
        var log = browser.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            await browser.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            browser.Kill(entireProcessTree: true);
            throw new TimeoutException("Chromium did not finish rendering the reference page within 4 minutes.");
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
        }
        return (await dom, await log);
    }
}
