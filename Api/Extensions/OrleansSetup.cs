using Credentials.Grains.Issuers;
using Credentials.Grains.Hosting;

namespace Credentials.Api.Extensions;

/// <summary>
/// How the API reaches grains, as <see cref="Topology"/> decides: <c>Orleans:Mode=Embedded</c>
/// (default) co-hosts a silo in this process; <c>Orleans:Mode=Client</c> makes the API a thin
/// Orleans client of a separate cluster, which it finds through the membership table (or
/// <c>Orleans:Gateways</c>). Membership and endpoints follow the shared <c>Orleans</c> settings
/// (<see cref="CredentialsClustering"/>).
/// </summary>
public static class OrleansSetup
{
    /// <summary>Registers the topology, its storage settings and backend, and the silo or the cluster client.</summary>
    public static Topology AddOrleans(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var topology = Topology.ForApi(configuration);
        builder.Services.AddSingleton(topology);
        builder.Services.AddSingleton(topology.Storage);
        if (topology.Backend is { } backend) builder.Services.AddSingleton(backend);

        if (topology.Kind == HostKind.ClusterClient)
        {
            builder.Services.AddSingleton(LocalIssuerVersions.Off);
            // Kestrel starts beside the cluster client instead of after it, so /healthz answers and
            // /readyz says 503 while the client keeps retrying to join a cluster that is not up yet.
            builder.Services.Configure<HostOptions>(options => options.ServicesStartConcurrently = true);
            // No DDL here: an API node refuses a schema older than this build needs (docs/operations.md).
            if (topology.Backend is { } nodeBackend)
            {
                builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<SchemaStartup>(sp, nodeBackend, topology.MigratesSchema));
            }
            builder.UseOrleansClient(client =>
            {
                client.UseCredentialsClustering(topology, configuration);
                client.UseConnectionRetryFilter<RetryClusterConnection>();
            });
            return topology;
        }

        // The only silo there is, in this process: its grains show the API their issuers' versions (ADR 0021).
        builder.Services.AddSingleton(new LocalIssuerVersions(enabled: topology.IsOnlySilo));
        builder.UseOrleans(silo =>
        {
            // A co-hosted silo clusters on localhost unless Orleans:Clustering says AdoNet.
            silo.UseCredentialsClustering(topology, configuration);
            silo.AddCredentialsStorage(topology);
            silo.AddCredentialsDashboard(configuration);
        });
        return topology;
    }

    /// <summary>
    /// An operator command's client of the deployment this configuration describes: in client mode
    /// the cluster's gateways, otherwise the embedded service's co-hosted silo.
    /// </summary>
    public static void ConfigureClient(IClientBuilder client, IConfiguration configuration) =>
        client.UseCredentialsClustering(Topology.ForCommand(configuration), configuration);
}
