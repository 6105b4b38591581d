using Credentials.Grains.Hosting;

namespace Credentials.Api.Extensions;

/// <summary>
/// The one place the API decides how it reaches grains: <c>Orleans:Mode=Embedded</c> (default)
/// co-hosts a silo in this process; <c>Orleans:Mode=Client</c> makes the API a thin Orleans client
/// of a separate cluster, which it finds through the membership table (or <c>Orleans:Gateways</c>).
/// Membership and endpoints follow the shared <c>Orleans</c> settings (<see cref="CredentialsClustering"/>).
/// </summary>
public static class OrleansSetup
{
    public static bool IsClientMode(IConfiguration configuration) =>
        string.Equals(configuration["Orleans:Mode"], "Client", StringComparison.OrdinalIgnoreCase);

    public static void AddOrleans(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (IsClientMode(configuration))
        {
            // Kestrel starts beside the cluster client instead of after it, so /healthz answers and
            // /readyz says 503 while the client keeps retrying to join a cluster that is not up yet.
            builder.Services.Configure<HostOptions>(options => options.ServicesStartConcurrently = true);
            builder.UseOrleansClient(client =>
            {
                ConfigureClient(client, configuration, ProcessRole.ApiNode);
                client.UseConnectionRetryFilter<RetryClusterConnection>();
            });
            return;
        }

        var storage = CredentialsSiloExtensions.StorageFromConfiguration(configuration, ProcessRole.Embedded);
        builder.Services.AddSingleton(storage);
        builder.UseOrleans(silo =>
        {
            // A co-hosted silo clusters on localhost unless Orleans:Clustering says AdoNet.
            silo.UseCredentialsClustering(configuration, clusterRole: false);
            silo.AddCredentialsStorage(storage);
        });
    }

    /// <summary>
    /// A client of the cluster this configuration describes: in client mode the cluster's gateways,
    /// otherwise the embedded service's co-hosted silo (what operator commands use). The role picks
    /// the process's share of PostgreSQL connections.
    /// </summary>
    public static void ConfigureClient(IClientBuilder client, IConfiguration configuration, ProcessRole role = ProcessRole.Command) =>
        client.UseCredentialsClustering(configuration, clusterRole: IsClientMode(configuration), role);
}
