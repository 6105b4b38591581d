using System.Net;
using Credentials.Grains.Hosting;
using Credentials.Tests.Images;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Credentials.Tests.Persistence;

/// <summary>
/// Cluster mode runs no DDL: after <c>migrate</c> (as the migrator role of deploy/postgres/roles.sql)
/// a silo and an API node on the app role, which may create nothing, serve everything: membership,
/// grain state, blobs and media. On a schema older than they need, or none, they refuse to start.
/// </summary>
public sealed class MigrationClusterTests : IAsyncLifetime
{
    private MigrationDatabase _database = null!;
    private readonly string _clusterId = TestBackends.NewServiceId();

    public async Task InitializeAsync() => _database = await MigrationDatabase.CreateAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    /// <summary>The silo host's own set-up (Silo/Program.cs) on <paramref name="connectionString"/>, in cluster mode.</summary>
    private IHost SiloHost(string connectionString)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:PostgreSql"] = connectionString,
            ["Orleans:ClusterId"] = _clusterId,
            ["Orleans:ServiceId"] = _clusterId,
            ["Orleans:AdvertisedIP"] = "127.0.0.1",
            ["Webhooks:SecretKey"] = TestBackends.WebhookSecretKey,
            ["Orleans:SiloPort"] = TestBackends.FreePort().ToString(),
            ["Orleans:GatewayPort"] = TestBackends.FreePort().ToString(),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        var topology = Topology.ForSilo(builder.Configuration);
        builder.UseOrleans(silo =>
        {
            silo.UseCredentialsClustering(topology, builder.Configuration);
            silo.AddCredentialsStorage(topology);
        });
        return builder.Build();
    }

    private ApiFactory ApiNode(string connectionString)
    {
        var node = new ApiFactory(serviceId: _clusterId);
        node.Settings["Orleans:Mode"] = "Client";
        node.Settings["ConnectionStrings:PostgreSql"] = connectionString;
        return node;
    }

    [Fact]
    public async Task A_silo_and_an_api_node_on_a_role_without_DDL_rights_serve_issuers_images_and_media_after_migrate()
    {
        await _database.CreateRolesAsync();
        await TestBackends.MigrateAsync(_database.MigratorConnectionString);
        var denied = await Assert.ThrowsAsync<PostgresException>(() => MigrationDatabase.ExecuteAsync(_database.AppConnectionString, "CREATE TABLE sneaky (id int)"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);

        using var silo = SiloHost(_database.AppConnectionString);
        await silo.StartAsync();
        try
        {
            await using var node = ApiNode(_database.AppConnectionString);
            var admin = node.AdminClient();
            var org = await admin.CreatePlatformAsync();
            await admin.CreateIssuerAsync(org, new { name = "Issued without DDL" });
            var png = SampleImages.Png(seed: 7);
            var image = await admin.UploadImageAsync(org, png, "logo.png", "image/png");

            var media = await admin.GetAsync(image.MediaPath());

            Assert.Equal(HttpStatusCode.OK, media.StatusCode);
            Assert.Equal(png, await media.Content.ReadAsByteArrayAsync());
            Assert.Equal(1L, Convert.ToInt64(await _database.ScalarAsync($"SELECT count(*) FROM credentials_blobs WHERE org = '{org}'")));
            Assert.Equal(3L, Convert.ToInt64(await _database.ScalarAsync(
                $"SELECT Status FROM OrleansMembershipTable WHERE DeploymentId = '{_clusterId}'")));
        }
        finally
        {
            await silo.StopAsync();
        }
    }

    [Fact]
    public async Task A_silo_refuses_to_start_on_a_schema_older_than_it_needs_and_says_what_to_run()
    {
        await Credentials.Grains.Storage.Migrations.SchemaMigrations.ApplyAsync(_database.ConnectionString, CancellationToken.None, target: 1);
        using var silo = SiloHost(_database.ConnectionString);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => silo.StartAsync());

        Assert.Contains(
            $"database schema is at version 1, this build needs {Credentials.Grains.Storage.Migrations.SchemaMigrations.Required}: run `Credentials.Api migrate`",
            Flatten(error));
        Assert.Equal(1L, Convert.ToInt64(await _database.ScalarAsync("SELECT max(version) FROM credentials_schema_version")));
    }

    [Fact]
    public async Task An_api_node_refuses_to_start_on_a_database_never_migrated()
    {
        await using var node = ApiNode(_database.ConnectionString);

        var error = Assert.ThrowsAny<Exception>(() => node.CreateClient());

        Assert.Contains("database schema is missing", Flatten(error));
        Assert.Contains("run `Credentials.Api migrate`", Flatten(error));
        Assert.False(await _database.HasTableAsync("credentials_blobs"));
    }

    private static string Flatten(Exception error) => error switch
    {
        AggregateException aggregate => string.Join(" | ", aggregate.InnerExceptions.Select(Flatten)),
        { InnerException: { } inner } => error.Message + " | " + Flatten(inner),
        _ => error.Message,
    };
}
