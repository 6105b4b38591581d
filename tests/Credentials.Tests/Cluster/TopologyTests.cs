using Credentials.Grains.Hosting;
using Credentials.Grains.Storage;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Credentials.Tests.Cluster;

/// <summary>
/// One switch decides what a process is (<see cref="Topology"/>): what follows from each
/// configuration, and that a value it does not know fails start-up instead of meaning "embedded".
/// </summary>
public sealed class TopologyTests
{
    private const string Postgres = "Host=db.example;Username=credentials;Password=secret;Database=credentials";

    private static IConfiguration Configuration(params (string Key, string? Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    [Theory]
    [InlineData(null, false, HostKind.EmbeddedSqlite, ProcessRole.Embedded, ClusteringKind.Localhost, true)]
    [InlineData("embedded", false, HostKind.EmbeddedSqlite, ProcessRole.Embedded, ClusteringKind.Localhost, true)]
    [InlineData("Embedded", true, HostKind.EmbeddedPostgreSql, ProcessRole.Embedded, ClusteringKind.Localhost, true)]
    [InlineData("Client", true, HostKind.ClusterClient, ProcessRole.ApiNode, ClusteringKind.AdoNet, true)]
    [InlineData("client", false, HostKind.ClusterClient, ProcessRole.ApiNode, ClusteringKind.Localhost, false)]
    public void The_api_configuration_decides_the_kind_role_membership_and_readiness(
        string? mode, bool postgres, HostKind kind, ProcessRole role, ClusteringKind membership, bool checksDatabase)
    {
        var topology = Topology.ForApi(Configuration(("Orleans:Mode", mode), ("ConnectionStrings:PostgreSql", postgres ? Postgres : null)));

        Assert.Equal((kind, role, membership, checksDatabase), (topology.Kind, topology.Role, topology.Membership, topology.ChecksDatabase));
        if (checksDatabase)
        {
            Assert.Equal(postgres ? typeof(PostgreSqlStorage) : typeof(SqliteStorage), topology.Backend!.GetType());
            Assert.Same(topology.Backend, topology.Backend);
        }
    }

    [Fact]
    public void The_silo_host_clusters_through_postgresql_and_an_operator_command_has_its_own_budget()
    {
        var configuration = Configuration(("ConnectionStrings:PostgreSql", Postgres), ("Orleans:Mode", "Client"));

        var silo = Topology.ForSilo(configuration);
        var command = Topology.ForCommand(configuration);

        Assert.Equal((HostKind.Silo, ProcessRole.Silo, ClusteringKind.AdoNet), (silo.Kind, silo.Role, silo.Membership));
        Assert.Equal((HostKind.ClusterClient, ProcessRole.Command, ClusteringKind.AdoNet, false), (command.Kind, command.Role, command.Membership, command.ChecksDatabase));
    }

    [Theory]
    [InlineData(null, null, false, true)]
    [InlineData("Embedded", null, true, true)]
    [InlineData("Embedded", "AdoNet", true, false)]
    [InlineData("Client", null, true, false)]
    public void Only_an_embedded_process_on_localhost_membership_is_the_only_silo(string? mode, string? clustering, bool postgres, bool onlySilo)
    {
        var configuration = Configuration(("Orleans:Mode", mode), ("Orleans:Clustering", clustering), ("ConnectionStrings:PostgreSql", postgres ? Postgres : null));

        Assert.Equal(onlySilo, Topology.ForApi(configuration).IsOnlySilo);
        Assert.False(Topology.ForSilo(configuration).IsOnlySilo);
    }

    [Fact]
    public void An_unknown_mode_is_refused_with_the_value_and_the_choices_named()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Topology.ForApi(Configuration(("Orleans:Mode", "Cluster"))));

        Assert.Contains("Orleans:Mode 'Cluster'", error.Message);
        Assert.Contains("Embedded", error.Message);
        Assert.Contains("Client", error.Message);
    }

    [Fact]
    public void The_api_does_not_start_with_an_unknown_mode()
    {
        using var factory = new ApiFactory();
        factory.Settings["Orleans:Mode"] = "Clinet";

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Orleans:Mode 'Clinet'", StartupFailures.Messages(error));
    }

    [Fact]
    public void The_api_does_not_start_with_a_token_cache_longer_than_five_seconds()
    {
        using var factory = new ApiFactory();
        factory.Settings["Auth:TokenCacheSeconds"] = "6";

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("TokenCacheSeconds", StartupFailures.Messages(error));
    }

    [Fact]
    public void The_storage_settings_default_the_data_directory_and_carry_the_connection_string()
    {
        var sqlite = StorageSettings.From(Configuration(("Storage:DataDirectory", "")));
        var postgres = StorageSettings.From(Configuration(("ConnectionStrings:PostgreSql", Postgres), ("Storage:DataDirectory", "/srv/data")));

        Assert.Equal(("data", false), (sqlite.DataDirectory, sqlite.UsesPostgreSql));
        Assert.Equal(("/srv/data", Postgres), (postgres.DataDirectory, postgres.PostgreSql));
    }
}
