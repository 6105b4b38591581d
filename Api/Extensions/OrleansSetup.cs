using System.Net;
using Credentials.Grains.Hosting;
using Orleans.Configuration;

namespace Credentials.Api.Extensions;

/// <summary>
/// The one place the API decides how it reaches grains: <c>Orleans:Mode=Embedded</c> (default)
/// co-hosts a silo in this process; <c>Orleans:Mode=Client</c> makes the API a thin Orleans client
/// of a separate cluster.
/// </summary>
public static class OrleansSetup
{
    public static bool IsClientMode(IConfiguration configuration) =>
        string.Equals(configuration["Orleans:Mode"], "Client", StringComparison.OrdinalIgnoreCase);

    public static void AddOrleans(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var orleans = configuration.GetSection("Orleans").Get<OrleansHostOptions>() ?? new OrleansHostOptions();
        if (IsClientMode(configuration))
        {
            builder.UseOrleansClient(client => ConfigureClient(client, configuration));
            return;
        }

        var storage = CredentialsSiloExtensions.StorageFromConfiguration(configuration);
        builder.Services.AddSingleton(storage);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(orleans.SiloPort, orleans.GatewayPort, serviceId: orleans.ServiceId, clusterId: orleans.ClusterId);
            silo.AddCredentialsStorage(storage);
        });
    }

    /// <summary>
    /// A client finds gateways from <c>Orleans:Gateways</c> (comma-separated host:port), else the
    /// co-hosted silo's gateway on localhost (what operator commands use against the embedded service).
    /// </summary>
    public static void ConfigureClient(IClientBuilder client, IConfiguration configuration)
    {
        var orleans = configuration.GetSection("Orleans").Get<OrleansHostOptions>() ?? new OrleansHostOptions();
        client.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = orleans.ClusterId;
            options.ServiceId = orleans.ServiceId;
        });
        if (configuration["Orleans:Gateways"] is { Length: > 0 } gateways)
        {
            client.UseStaticClustering(gateways.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(IPEndPoint.Parse).ToArray());
        }
        else
        {
            client.UseLocalhostClustering(orleans.GatewayPort, orleans.ServiceId, orleans.ClusterId);
        }
    }
}
