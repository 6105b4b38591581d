using Credentials.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace Credentials.Tests.Infrastructure;

/// <summary>
/// A TestCluster whose silos use the real storage stack on one backend. <see cref="RestartAsync"/>
/// stops every silo and starts a new cluster over the same service id and data: nothing held in
/// memory survives, only what was committed.
/// </summary>
public abstract class ClusterFixture(Backend backend, short silos = 1, bool countReads = false) : IAsyncLifetime
{
    private readonly string _dataDirectory = TestBackends.NewTempDirectory();
    private readonly string _serviceId = TestBackends.NewServiceId();

    public TestCluster Cluster { get; private set; } = null!;
    public IGrainFactory Grains => Cluster.GrainFactory;
    public Backend Backend => backend;

    public async Task InitializeAsync() => Cluster = await StartAsync();

    public async Task RestartAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        Cluster = await StartAsync();
    }

    private async Task<TestCluster> StartAsync()
    {
        var builder = new TestClusterBuilder(silos);
        builder.Options.ServiceId = _serviceId;
        builder.Options.ClusterId = _serviceId + "-" + Guid.NewGuid().ToString("N")[..6];
        // Real sockets, so API hosts outside the cluster can join it as clients.
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.Properties["Test:Backend"] = backend.ToString();
        builder.Properties["Test:DataDirectory"] = _dataDirectory;
        builder.Properties["Test:CountReads"] = countReads.ToString();
        builder.Properties["Webhooks:SecretKey"] = TestBackends.WebhookSecretKey;
        builder.AddSiloBuilderConfigurator<StorageConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>An API host in client mode joined to this cluster through its gateways, as production runs API nodes.</summary>
    public ApiFactory ClientNode()
    {
        var factory = new ApiFactory(backend, serviceId: Cluster.Options.ServiceId);
        factory.Settings["Orleans:Mode"] = "Client";
        factory.Settings["Orleans:ClusterId"] = Cluster.Options.ClusterId;
        factory.Settings["Orleans:Gateways"] = string.Join(",", Cluster.Silos.Select(s => s.GatewayAddress.Endpoint.ToString()));
        return factory;
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    private sealed class StorageConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var backend = Enum.Parse<Backend>(siloBuilder.Configuration["Test:Backend"]!);
            var directory = siloBuilder.Configuration["Test:DataDirectory"]!;
            var storage = TestBackends.Create(backend, directory);
            siloBuilder.AddCredentialsStorage(storage);
            if (bool.Parse(siloBuilder.Configuration["Test:CountReads"]!)) StorageReads.Count(siloBuilder, storage);
        }
    }
}

public sealed class SqliteClusterFixture() : ClusterFixture(Backend.Sqlite);

public sealed class PostgreSqlClusterFixture() : ClusterFixture(Backend.PostgreSql);
