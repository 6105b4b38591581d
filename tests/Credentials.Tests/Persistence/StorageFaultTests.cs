using System.Net;
using System.Net.Http.Json;
using Credentials.Grains;
using Credentials.Grains.Blobs;
using Credentials.Grains.Hosting;
using Credentials.Grains.Storage;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Credentials.Tests.Persistence;

/// <summary>
/// A driver's exception thrown inside a grain (here PostgreSQL's 53300, too many clients) never
/// crosses the grain boundary as itself: its type has no Orleans codec. The grain answers
/// StorageUnavailableException, and the API 503 with Retry-After. The silos are a TestCluster on
/// real sockets, so every answer is serialized as between processes.
/// </summary>
public sealed class StorageFaultTests(FaultyStorageClusterFixture cluster) : IClassFixture<FaultyStorageClusterFixture>
{
    [Fact]
    public async Task An_org_whose_storage_refuses_connections_is_a_503_with_Retry_After_through_an_api_node()
    {
        await using var node = new ApiFactory(serviceId: cluster.Cluster.Options.ServiceId);
        node.Settings["Orleans:Mode"] = "Client";
        node.Settings["Orleans:ClusterId"] = cluster.Cluster.Options.ClusterId;
        node.Settings["Orleans:Gateways"] = string.Join(",", cluster.Cluster.Silos.Select(s => s.GatewayAddress.Endpoint.ToString()));

        var response = await node.AdminClient().PostAsJsonAsync("/api/platforms/", new { key = FaultyStorage.RefusedOrg() });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var problem = (await response.ProblemAsync()).ToJsonString();
        Assert.DoesNotContain("Postgres", problem);
        Assert.DoesNotContain("53300", problem);
    }

    [Fact]
    public async Task A_storage_failure_while_activating_reaches_the_caller_as_StorageUnavailableException()
    {
        var org = cluster.Cluster.GrainFactory.GetGrain<IOrgGrain>(FaultyStorage.RefusedOrg());

        await Assert.ThrowsAsync<StorageUnavailableException>(() => org.GetPlatform());
    }

    [Fact]
    public async Task A_blob_store_failure_inside_a_grain_call_reaches_the_caller_as_StorageUnavailableException()
    {
        var key = FaultyStorage.BlobRefusedOrg();
        var org = cluster.Cluster.GrainFactory.GetGrain<IOrgGrain>(key);
        Assert.Equal(OutcomeStatus.Created, (await org.CreatePlatform(null)).Status);

        var upload = new ImageUpload("logo", "logo.png", new string('a', 64), "png", 100, 10, 10);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => org.AddImage(upload));

        // The grain is not broken by it: reads still answer.
        Assert.NotNull(await org.GetPlatform());
    }
}

/// <summary>Orgs named <c>refused-…</c> get 53300 from every row read; <c>blobless-…</c> from every blob lookup.</summary>
public static class FaultyStorage
{
    public static string RefusedOrg() => "refused-" + Guid.NewGuid().ToString("N")[..12];
    public static string BlobRefusedOrg() => "blobless-" + Guid.NewGuid().ToString("N")[..12];

    public static PostgresException TooManyClients() => new("sorry, too many clients already", "FATAL", "FATAL", "53300");

    public sealed class Rows(IGrainStorage inner) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            grainId.Key.ToString()!.StartsWith("refused-", StringComparison.Ordinal)
                ? throw TooManyClients()
                : inner.ReadStateAsync(stateName, grainId, grainState);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.WriteStateAsync(stateName, grainId, grainState);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }

    public sealed class Blobs(IBlobStore inner) : IBlobStore
    {
        public Task PutAsync(string org, string sha256, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => inner.PutAsync(org, sha256, content, cancellationToken);

        public Task<byte[]?> GetAsync(string org, string sha256, CancellationToken cancellationToken = default) => inner.GetAsync(org, sha256, cancellationToken);

        public Task<Stream?> OpenReadAsync(string org, string sha256, CancellationToken cancellationToken = default) => inner.OpenReadAsync(org, sha256, cancellationToken);

        public Task<bool> ExistsAsync(string org, string sha256, CancellationToken cancellationToken = default) =>
            org.StartsWith("blobless-", StringComparison.Ordinal) ? throw TooManyClients() : inner.ExistsAsync(org, sha256, cancellationToken);

        public Task DeleteAsync(string org, string sha256, CancellationToken cancellationToken = default) => inner.DeleteAsync(org, sha256, cancellationToken);

        public IAsyncEnumerable<(string Sha256, DateTimeOffset Stored)> ListAsync(string org, CancellationToken cancellationToken = default) => inner.ListAsync(org, cancellationToken);
    }
}

/// <summary>One SQLite silo whose row reads and blob lookups fail for the orgs <see cref="FaultyStorage"/> names.</summary>
public sealed class FaultyStorageClusterFixture : IAsyncLifetime
{
    private readonly string _dataDirectory = TestBackends.NewTempDirectory();

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var serviceId = TestBackends.NewServiceId();
        var builder = new TestClusterBuilder(1);
        builder.Options.ServiceId = serviceId;
        builder.Options.ClusterId = serviceId + "-faulty";
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.Properties["Test:DataDirectory"] = _dataDirectory;
        builder.Properties["Webhooks:SecretKey"] = TestBackends.WebhookSecretKey;
        builder.AddSiloBuilderConfigurator<Configurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            var backend = SqliteStorage.InDirectory(silo.Configuration["Test:DataDirectory"]!);
            silo.Services.AddSingleton<IBlobStore>(sp => new FaultyStorage.Blobs(
                BlobStores.For(backend, sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId)));
            silo.AddCredentialsStorage(backend);
            silo.Services.AddSingleton(sp => new ChunkStore(
                new FaultyStorage.Rows(sp.GetRequiredKeyedService<IGrainStorage>(CredentialsSiloExtensions.StorageName)),
                backend.ChunkListing(sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId),
                new SemaphoreSlim(1, 1)));
        }
    }
}
