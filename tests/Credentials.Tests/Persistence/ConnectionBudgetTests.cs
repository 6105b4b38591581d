using System.Net;
using System.Net.Http.Json;
using Credentials.Grains.Hosting;
using Credentials.Grains.Storage;
using Credentials.Tests.Deploy;
using Credentials.Tests.Infrastructure;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace Credentials.Tests.Persistence;

/// <summary>
/// Every process holds a bounded number of PostgreSQL connections, set in one place, and the
/// example deployment's sum fits the server; an exhausted pool is a quick 503, not a 500.
/// </summary>
public sealed class ConnectionBudgetTests
{
    private const string Postgres = "Host=db.example;Database=credentials;Username=app;Password=secret";

    private static IConfiguration Configuration(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(
            settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)).Append(new("ConnectionStrings:PostgreSql", Postgres))).Build();

    [Fact]
    public void The_configured_pool_sizes_and_timeout_are_applied_to_the_state_and_blob_connection_strings()
    {
        var configuration = Configuration(("Storage:MaxPoolSize", "7"), ("Storage:BlobMaxPoolSize", "3"), ("Storage:ConnectionTimeoutSeconds", "2"));

        var storage = Assert.IsType<PostgreSqlStorage>(Topology.Of(configuration, ProcessRole.Silo, inCluster: true).Backend!);

        var state = new NpgsqlConnectionStringBuilder(storage.ConnectionString);
        var blobs = new NpgsqlConnectionStringBuilder(storage.BlobConnectionString);
        Assert.Equal((7, 2, "db.example"), (state.MaxPoolSize, state.Timeout, state.Host));
        Assert.Equal((3, 2, "secret"), (blobs.MaxPoolSize, blobs.Timeout, blobs.Password));
    }

    [Fact]
    public void The_budget_overrides_a_pool_size_in_the_connection_string_and_each_role_has_its_own_default()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("ConnectionStrings:PostgreSql", Postgres + ";Maximum Pool Size=100")]).Build();

        foreach (var role in Enum.GetValues<ProcessRole>())
        {
            var state = new NpgsqlConnectionStringBuilder(ConnectionBudget.StateConnectionString(configuration, role));
            Assert.Equal(ConnectionBudget.Defaults(role).State, state.MaxPoolSize);
            Assert.Equal(5, state.Timeout);
        }
        Assert.True(ConnectionBudget.Defaults(ProcessRole.ApiNode).State < ConnectionBudget.Defaults(ProcessRole.Silo).State);
    }

    [Fact]
    public void A_pool_size_out_of_range_fails_at_start_with_the_key_named()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ConnectionBudget.From(Configuration(("Storage:MaxPoolSize", "0")), ProcessRole.Silo));
        Assert.Contains("MaxPoolSize", error.Message);
    }

    [Theory]
    [InlineData(true, ProcessRole.Silo)]
    [InlineData(false, ProcessRole.Embedded)]
    public void A_silo_reads_membership_through_its_state_pool(bool clusterRole, ProcessRole role)
    {
        var configuration = Configuration(("Orleans:Clustering", "AdoNet"), ("Storage:MaxPoolSize", "4"));
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo.UseCredentialsClustering(configuration, clusterRole));
        using var host = builder.Build();

        var membership = host.Services.GetRequiredService<IOptions<AdoNetClusteringSiloOptions>>().Value.ConnectionString;

        Assert.Equal(Topology.Of(configuration, role, clusterRole).Backend!.ConnectionString, membership);
        Assert.Equal(4, new NpgsqlConnectionStringBuilder(membership).MaxPoolSize);
    }

    [Fact]
    public void An_api_node_and_an_operator_command_read_the_gateways_through_their_own_budget()
    {
        var configuration = Configuration(("Orleans:Clustering", "AdoNet"));
        foreach (var role in new[] { ProcessRole.ApiNode, ProcessRole.Command })
        {
            var builder = Host.CreateApplicationBuilder();
            builder.UseOrleansClient(client => client.UseCredentialsClustering(configuration, clusterRole: true, role));
            using var host = builder.Build();

            var gateways = host.Services.GetRequiredService<IOptions<AdoNetClusteringClientOptions>>().Value.ConnectionString;

            Assert.Equal(ConnectionBudget.Defaults(role).State, new NpgsqlConnectionStringBuilder(gateways).MaxPoolSize);
        }
    }

    /// <summary>
    /// The formula of docs/operations.md on the rendered example overlay: every Deployment at its
    /// autoscaler's maximum, plus one pod surging and one still terminating during a rollout.
    /// </summary>
    [Fact]
    public void The_example_overlay_fits_max_connections_at_the_autoscalers_maximum()
    {
        const int MaxConnections = 100, SuperuserReserved = 3, OperatorSessions = 5;
        var manifests = Manifests.Render("overlays/example");
        // The shared ConfigMap's name carries kustomize's hash suffix.
        var config = manifests.All<V1ConfigMap>().Single(c => c.Metadata.Name.StartsWith("credentials-config", StringComparison.Ordinal));

        var total = 0;
        foreach (var (deployment, role) in new[] { ("credentials-silo", ProcessRole.Silo), ("credentials-api", ProcessRole.ApiNode) })
        {
            var spec = manifests.Deployment(deployment);
            var container = Assert.Single(spec.Spec.Template.Spec.Containers);
            var hpa = manifests.All<V2HorizontalPodAutoscaler>().Single(h => h.Spec.ScaleTargetRef.Name == deployment);
            var surge = int.Parse(spec.Spec.Strategy.RollingUpdate.MaxSurge.Value);
            var pods = hpa.Spec.MaxReplicas + surge + 1;
            var perPod = Setting(container, config, "Storage__MaxPoolSize", ConnectionBudget.Defaults(role).State)
                + Setting(container, config, "Storage__BlobMaxPoolSize", ConnectionBudget.Defaults(role).Blobs);
            total += pods * perPod;
        }
        // No migration job: the first silo creates the schema through its own state pool.
        total += ConnectionBudget.Defaults(ProcessRole.Command).State + OperatorSessions + SuperuserReserved;

        Assert.True(total <= MaxConnections, $"the example needs {total} connections, PostgreSQL allows {MaxConnections}");
    }

    private static int Setting(V1Container container, V1ConfigMap config, string name, int fallback) =>
        container.Env.SingleOrDefault(e => e.Name == name)?.Value is { } value ? int.Parse(value)
        : config.Data.TryGetValue(name, out var shared) ? int.Parse(shared)
        : fallback;
}

/// <summary>An exhausted pool on a real server: the write fails fast with 503 and the org recovers.</summary>
public sealed class PoolExhaustionTests
{
    [Fact]
    public async Task A_write_that_finds_the_pool_exhausted_is_a_quick_503_with_Retry_After_and_the_org_recovers()
    {
        await using var factory = new ApiFactory(Backend.PostgreSql);
        factory.Settings["Storage:MaxPoolSize"] = "1";
        factory.Settings["Storage:ConnectionTimeoutSeconds"] = "1";
        var client = factory.AdminClient();
        var org = await client.CreatePlatformAsync();
        await client.CreateIssuerAsync(org, new { name = "Before" });

        // Npgsql pools per connection string in the process: holding the one connection of the
        // service's state pool exhausts it.
        var budgeted = new ConnectionBudget(new StorageSettings { MaxPoolSize = 1, ConnectionTimeoutSeconds = 1 }, ProcessRole.Embedded).State(TestBackends.PostgresConnectionString);
        var held = new NpgsqlConnection(budgeted);
        await held.OpenAsync();
        HttpResponseMessage refused;
        try
        {
            refused = await client.PostAsJsonAsync(TestRequests.Issuers(org), new { name = "While exhausted" });
        }
        finally
        {
            await held.DisposeAsync();
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpResponseMessage after;
        do after = await client.PostAsJsonAsync(TestRequests.Issuers(org), new { name = "After" });
        while (after.StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline && await Delay());
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(["Before", "After"], (await client.ListIssuersAsync(org)).Names());
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(100);
        return true;
    }
}
