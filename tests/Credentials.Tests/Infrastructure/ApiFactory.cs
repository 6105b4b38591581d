using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Credentials.Tests.Infrastructure;

/// <summary>
/// The whole embedded service (API and co-hosted silo) in-process, on its own data folder, ports
/// and service id, so factories never share state unless a test hands one's settings to another.
/// </summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    public const string AdminToken = "test-admin-token-0123456789abcdef";

    public ApiFactory(Backend backend = Backend.Sqlite, string? dataDirectory = null, string? serviceId = null)
    {
        Backend = backend;
        DataDirectory = dataDirectory ?? TestBackends.NewTempDirectory();
        ServiceId = serviceId ?? TestBackends.NewServiceId();
    }

    public Backend Backend { get; }
    public string DataDirectory { get; }
    public string ServiceId { get; }
    public Dictionary<string, string?> Settings { get; } = new();

    /// <summary>A second factory over the same data: what a restart of the process sees.</summary>
    public ApiFactory Restarted() => new(Backend, DataDirectory, ServiceId);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Storage:DataDirectory", DataDirectory);
        builder.UseSetting("Orleans:ServiceId", ServiceId);
        builder.UseSetting("Orleans:ClusterId", ServiceId);
        builder.UseSetting("Orleans:SiloPort", TestBackends.FreePort().ToString());
        builder.UseSetting("Orleans:GatewayPort", TestBackends.FreePort().ToString());
        builder.UseSetting("Auth:AdminToken", AdminToken);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        if (Backend == Backend.PostgreSql)
        {
            builder.UseSetting("ConnectionStrings:PostgreSql", TestBackends.PostgresConnectionString);
        }
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
    }

    /// <summary>A client that sends the super-admin token.</summary>
    public HttpClient AdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Token", AdminToken);
        return client;
    }
}
