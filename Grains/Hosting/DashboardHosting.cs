using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace Credentials.Grains.Hosting;

/// <summary>
/// Section <c>Dashboard</c>: the Orleans Dashboard on a silo (the silo host or the embedded API's
/// co-hosted silo). Off by default; when on, served by a listener of its own on 127.0.0.1, so only
/// <c>kubectl port-forward</c> (or a shell on the host) reaches it, never a Service or the API's port.
/// </summary>
public sealed class DashboardSettings
{
    public const string Section = "Dashboard";
    public const int DefaultPort = 8089;

    public bool Enabled { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = DefaultPort;

    /// <summary>Reads and validates the settings; a port out of range fails start-up with its key named.</summary>
    public static DashboardSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<DashboardSettings>() ?? new DashboardSettings();
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(settings, new ValidationContext(settings), errors, validateAllProperties: true))
        {
            throw new InvalidOperationException("Invalid Dashboard settings: Dashboard:Port must be between 1 and 65535.");
        }
        return settings;
    }
}

public static class DashboardHosting
{
    /// <summary>Adds the dashboard to this silo when <c>Dashboard:Enabled</c> is true; does nothing otherwise.</summary>
    public static ISiloBuilder AddCredentialsDashboard(this ISiloBuilder silo, IConfiguration configuration)
    {
        var settings = DashboardSettings.From(configuration);
        if (!settings.Enabled) return silo;

        silo.AddDashboard();
        // The dashboard's endpoints resolve its own services; the loopback app borrows them from this host.
        var dashboardTypes = silo.Services
            .Where(d => d.ServiceType.Assembly == typeof(DashboardOptions).Assembly && !d.ServiceType.IsGenericTypeDefinition)
            .Select(d => d.ServiceType)
            .Append(typeof(IOptions<DashboardOptions>))
            .Distinct()
            .ToArray();
        silo.Services.AddHostedService(sp => new DashboardListener(sp, settings.Port, dashboardTypes));
        return silo;
    }
}

/// <summary>
/// A minimal ASP.NET Core app on 127.0.0.1:<c>Dashboard:Port</c> that serves only the dashboard.
/// Started after the silo (hosted services start in registration order), stopped before it.
/// </summary>
internal sealed class DashboardListener(IServiceProvider host, int port, IReadOnlyList<Type> dashboardTypes) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(host.GetRequiredService<ILoggerFactory>());
        builder.Services.AddLogging();
        foreach (var type in dashboardTypes) builder.Services.AddSingleton(type, _ => host.GetRequiredService(type));

        _app = builder.Build();
        _app.UseRouting();
        _app.MapOrleansDashboard();
        await _app.StartAsync(cancellationToken);
        host.GetRequiredService<ILogger<DashboardListener>>()
            .LogInformation("Orleans Dashboard on http://127.0.0.1:{Port}/ (loopback only: use kubectl port-forward)", port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) await _app.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}
