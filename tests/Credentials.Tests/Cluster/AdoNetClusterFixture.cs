using Credentials.Grains.Membership;
using Credentials.Grains.Hosting;
using Credentials.Grains.Storage;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace Credentials.Tests.Cluster;

/// <summary>
/// A TestCluster of three silos as production runs them: membership in the PostgreSQL table through
/// Microsoft.Orleans.Clustering.AdoNet (not the TestCluster's own membership), state through the
/// AdoNet grain storage, and a client that finds gateways in the membership table.
/// </summary>
public sealed class AdoNetClusterFixture : IAsyncLifetime
{
    public const short SiloCount = 3;

    public TestCluster Cluster { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.GrainFactory;

    public async Task InitializeAsync()
    {
        // As a deployment does: `migrate` first, then silos that run no DDL.
        await TestBackends.MigratePostgresAsync();
        Cluster = Builder(SiloCount).Build();
        await Cluster.DeployAsync();
    }

    /// <summary>
    /// A cluster of <paramref name="silos"/> set up as this fixture's (AdoNet membership and storage in
    /// PostgreSQL, a fresh service id); callers may add properties before building it.
    /// </summary>
    public static TestClusterBuilder Builder(short silos)
    {
        var id = TestBackends.NewServiceId();
        var builder = new TestClusterBuilder(silos);
        builder.Options.ServiceId = id;
        builder.Options.ClusterId = id;
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.Properties["ConnectionStrings:PostgreSql"] = TestBackends.PostgresConnectionString;
        builder.Properties["Webhooks:SecretKey"] = TestBackends.WebhookSecretKey;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        return builder;
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    internal sealed class SiloConfigurator : ISiloConfigurator
    {
        // The TestCluster assigns each silo its endpoints; membership and storage are ours.
        public void Configure(ISiloBuilder siloBuilder)
        {
            var postgres = siloBuilder.Configuration.GetConnectionString("PostgreSql")!;
            siloBuilder.UseAdoNetClustering(options =>
            {
                options.Invariant = PostgreSqlMembershipTable.Invariant;
                options.ConnectionString = postgres;
            });
            siloBuilder.AddCredentialsStorage(new PostgreSqlStorage(postgres), migrateSchema: false);
        }
    }

    internal sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        // The same client set-up as an API node in client mode: Orleans:ClusterId, ServiceId and the connection string.
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseCredentialsClustering(configuration, clusterRole: true);
    }
}
