using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Credentials.Grains.Hosting;
using Credentials.Grains.Webhooks;
using Credentials.Tests.Auth;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Credentials.Tests.Webhooks;

/// <summary>
/// ADR 0019: a webhook's signing secret is never stored in clear, whatever the configuration. The
/// embedded default seals it with a key generated once in the data directory; silos that share a
/// database must be given a key; secrets an earlier release stored plain are sealed as their org commits.
/// </summary>
public sealed class WebhookSecretsAtRestTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static ApiFactory Service(ApiFactory factory) => WebhookDeliveryTests.WithDeliverySettings(factory, allowInsecure: true);

    /// <summary>A service on fresh data with one webhook to <paramref name="receiver"/> (issuer.created), stopped again: what a restart finds.</summary>
    private static async Task<(ApiFactory Stopped, string Org, string Secret)> SubscribedAndStoppedAsync(Backend backend, WebhookReceiver receiver)
    {
        await using var factory = Service(new ApiFactory(backend));
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var (_, secret) = await WebhookDeliveryTests.SubscribeAsync(admin, org, receiver.Url(), "issuer.created");
        return (factory, org, secret);
    }

    [Theory]
    [InlineData(Backend.Sqlite)]
    [InlineData(Backend.PostgreSql)]
    public async Task Without_a_configured_key_the_secret_is_sealed_with_a_key_file_made_once_and_still_signs_after_a_restart(Backend backend)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (factory, org, secret) = await SubscribedAndStoppedAsync(backend, receiver);

        var keyFile = Path.Combine(factory.DataDirectory, WebhookKeyFile.DefaultName);
        var key = await File.ReadAllBytesAsync(keyFile);
        Assert.Equal(32, Convert.FromBase64String(Encoding.ASCII.GetString(key).Trim()).Length);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));

        var rows = await StoredRowsAsync(factory);
        Assert.StartsWith("{", Encoding.UTF8.GetString(rows[$"{org}/webhooks"])); // the row that holds the webhook, as JSON
        Assert.Contains("\"aesgcm:", Encoding.UTF8.GetString(rows[$"{org}/webhooks"]));
        var signingKey = Convert.FromBase64String(secret["whsec_".Length..]);
        var forms = new[] { Encoding.UTF8.GetBytes(secret["whsec_".Length..]), signingKey, Encoding.UTF8.GetBytes(Convert.ToHexString(signingKey)) };
        foreach (var (rowKey, payload) in rows)
        {
            foreach (var form in forms) Assert.True(payload.AsSpan().IndexOf(form) < 0, $"row {rowKey} holds the secret");
        }
        if (backend == Backend.Sqlite)
        {
            // The database file and its journal byte for byte, free pages included.
            foreach (var file in Directory.GetFiles(factory.DataDirectory, "credentials.db*"))
            {
                var bytes = await File.ReadAllBytesAsync(file);
                foreach (var form in forms) Assert.True(bytes.AsSpan().IndexOf(form) < 0, $"{file} holds the secret");
            }
        }

        await using var restarted = Service(factory.Restarted());
        await restarted.AdminClient().CreateIssuerAsync(org, new { name = "After the restart" });

        await receiver.WaitUntilAsync(r => r.Delivered.Count >= 1, Deadline, "the event after the restart");
        Assert.True(WebhookReceiver.IsSigned(Assert.Single(receiver.Delivered), secret), "signed with the secret shown at creation");
        Assert.Equal(key, await File.ReadAllBytesAsync(keyFile)); // reused, not made again
    }

    [Theory]
    [InlineData(Backend.Sqlite)]
    [InlineData(Backend.PostgreSql)]
    public async Task A_secret_an_earlier_release_stored_plain_is_still_delivered_and_is_sealed_at_the_orgs_next_commit(Backend backend)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (factory, org, secret) = await SubscribedAndStoppedAsync(backend, receiver);
        // What the release before ADR 0019 stored without Webhooks:SecretKey.
        var row = $"{org}/webhooks";
        var set = JsonNode.Parse((await StoredRowsAsync(factory))[row])!;
        set["Webhooks"]![0]!["Secret"] = "plain:" + secret;
        await UpdateRowAsync(factory, row, Encoding.UTF8.GetBytes(set.ToJsonString()));

        await using var restarted = Service(factory.Restarted());
        var client = restarted.AdminClient();
        Assert.Single((await client.GetJsonAsync($"/api/platforms/{org}/webhooks/")).AsArray());
        Assert.Contains("plain:", Encoding.UTF8.GetString((await StoredRowsAsync(restarted))[row])); // reading writes nothing

        await client.CreateIssuerAsync(org, new { name = "The next commit" });

        await receiver.WaitUntilAsync(r => r.Delivered.Count >= 1, Deadline, "the event of the next commit");
        Assert.True(WebhookReceiver.IsSigned(Assert.Single(receiver.Delivered), secret), "signed with the legacy secret");
        var stored = Encoding.UTF8.GetString((await StoredRowsAsync(restarted))[row]);
        Assert.Contains("\"aesgcm:", stored);
        Assert.DoesNotContain(secret["whsec_".Length..], stored);
    }

    [Fact]
    public async Task After_a_key_rotation_a_webhook_still_signs_and_its_secret_is_resealed_under_the_new_key()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (oldKey, newKey) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        var factory = Service(new ApiFactory());
        factory.Settings["Webhooks:SecretKey"] = Convert.ToBase64String(oldKey);
        string org, secret;
        await using (factory)
        {
            var admin = factory.AdminClient();
            org = await admin.CreatePlatformAsync();
            (_, secret) = await WebhookDeliveryTests.SubscribeAsync(admin, org, receiver.Url(), "issuer.created");
        }
        Assert.False(File.Exists(Path.Combine(factory.DataDirectory, WebhookKeyFile.DefaultName)), "a configured key leaves no key file");

        await using var rotated = Service(factory.Restarted());
        rotated.Settings["Webhooks:SecretKey"] = Convert.ToBase64String(newKey);
        rotated.Settings["Webhooks:PreviousSecretKeys:0"] = Convert.ToBase64String(oldKey);
        await rotated.AdminClient().CreateIssuerAsync(org, new { name = "After the rotation" });

        await receiver.WaitUntilAsync(r => r.Delivered.Count >= 1, Deadline, "the event after the rotation");
        Assert.True(WebhookReceiver.IsSigned(Assert.Single(receiver.Delivered), secret), "signed with the secret shown at creation");
        var stored = JsonNode.Parse((await StoredRowsAsync(rotated))[$"{org}/webhooks"])!["Webhooks"]![0]!["Secret"]!.GetValue<string>();
        Assert.Equal(secret, new WebhookSecrets(newKey).Unprotect(stored));
        Assert.ThrowsAny<CryptographicException>(() => new WebhookSecrets(oldKey).Unprotect(stored));
    }

    [Fact]
    public async Task A_silo_that_shares_its_database_with_other_silos_refuses_to_start_without_a_key()
    {
        await TestBackends.MigratePostgresAsync();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var id = TestBackends.NewServiceId();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:PostgreSql"] = TestBackends.PostgresConnectionString,
            ["Orleans:ClusterId"] = id,
            ["Orleans:ServiceId"] = id,
            ["Orleans:AdvertisedIP"] = "127.0.0.1",
            ["Orleans:SiloPort"] = TestBackends.FreePort().ToString(),
            ["Orleans:GatewayPort"] = TestBackends.FreePort().ToString(),
        });
        var topology = Topology.ForSilo(builder.Configuration);
        builder.UseOrleans(silo =>
        {
            silo.UseCredentialsClustering(topology, builder.Configuration);
            silo.AddCredentialsStorage(topology);
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains(WebhookOptions.MissingKeyMessage, StartupFailures.Messages(error));
    }

    [Fact]
    public void Only_a_lone_silo_keeps_a_generated_key_in_its_data_directory()
    {
        static IConfiguration Settings(params (string Key, string Value)[] settings) => new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
        var postgres = ("ConnectionStrings:PostgreSql", "Host=db;Database=credentials");
        var data = ("Storage:DataDirectory", "/var/lib/credentials");
        var expected = Path.Combine("/var/lib/credentials", WebhookKeyFile.DefaultName);

        Assert.Equal(expected, Topology.ForApi(Settings(data)).WebhookKeyFile);
        Assert.Equal(expected, Topology.ForApi(Settings(data, postgres)).WebhookKeyFile); // one process over PostgreSQL
        Assert.Equal(expected, Topology.ForSilo(Settings(data)).WebhookKeyFile); // the silo host over SQLite, alone
        Assert.Null(Topology.ForSilo(Settings(data, postgres)).WebhookKeyFile);
        Assert.Null(Topology.ForApi(Settings(data, postgres, ("Orleans:Clustering", "AdoNet"))).WebhookKeyFile);
        Assert.Null(Topology.ForApi(Settings(data, postgres, ("Orleans:Mode", "Client"))).WebhookKeyFile); // no silo: no secrets
    }

    /// <summary>Every row the service stored, by key, read straight from the grain-state table.</summary>
    private static async Task<Dictionary<string, byte[]>> StoredRowsAsync(ApiFactory service)
    {
        await using var connection = await OpenAsync(service);
        await using var command = Command(connection, "SELECT grain_key, payload FROM credentials_grain_state WHERE service_id = @service AND payload IS NOT NULL", service);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, byte[]>();
        while (await reader.ReadAsync()) rows[reader.GetString(0)] = (byte[])reader.GetValue(1);
        return rows;
    }

    private static async Task UpdateRowAsync(ApiFactory service, string rowKey, byte[] payload)
    {
        await using var connection = await OpenAsync(service);
        await using var command = Command(connection, "UPDATE credentials_grain_state SET payload = @payload WHERE service_id = @service AND grain_key = @key", service);
        Parameter(command, "key", rowKey);
        Parameter(command, "payload", payload);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private static async Task<DbConnection> OpenAsync(ApiFactory service)
    {
        var connection = TestBackends.Create(service.Backend, service.DataDirectory).CreateConnection();
        await connection.OpenAsync();
        return connection;
    }

    private static DbCommand Command(DbConnection connection, string sql, ApiFactory service)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        Parameter(command, "service", service.ServiceId);
        return command;
    }

    private static void Parameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
