using System.Diagnostics;
using Credentials.Grains;
using Credentials.Grains.Hosting;
using Credentials.Grains.Storage;
using Credentials.Grains.Webhooks;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace Credentials.Tests.Cluster;

/// <summary>
/// A silo with <c>Orleans:Tls</c> set (a real host, configured by <see cref="CredentialsClustering"/>
/// as the silo host is) lets in only clients holding a certificate from the cluster CA, so nothing
/// else that reaches its gateway can call a grain such as <see cref="IOrgGrain.CreateToken"/>.
/// </summary>
public sealed class TransportSecurityTests(TransportSecurityTests.SecuredSilo silo) : IClassFixture<TransportSecurityTests.SecuredSilo>
{
    [Fact]
    public async Task A_client_with_a_certificate_from_the_cluster_ca_connects_and_calls_a_grain()
    {
        var files = TlsFiles.Write(TestBackends.NewTempDirectory(), silo.Authority.Issue("api-node"), silo.Authority.Certificate);

        await using var client = await silo.ConnectAsync(files.Settings());

        var org = "tls-" + Guid.NewGuid().ToString("N")[..8];
        var grain = client.Grains.GetGrain<IOrgGrain>(org);
        Assert.True((await grain.CreatePlatform("TLS")).Succeeded);
        var token = await grain.CreateToken("over-tls");
        Assert.True(token.Succeeded);
        Assert.False(string.IsNullOrEmpty(token.Value!.Token));
    }

    [Fact]
    public async Task A_client_without_tls_cannot_open_a_gateway_connection()
    {
        await silo.AssertRefusedAsync([]);
    }

    [Fact]
    public async Task A_client_speaking_tls_without_a_certificate_cannot_open_a_gateway_connection()
    {
        // It would trust any silo: only its missing certificate can be the reason it is refused.
        await silo.AssertRefusedAsync([], client => client.Configure<ClientConnectionOptions>(options =>
            options.ConfigureConnection(connection => connection.UseClientTls(new TlsOptions
            {
                ClientCertificateMode = RemoteCertificateMode.NoCertificate,
                RemoteCertificateValidation = (_, _, _) => true,
            }))));
    }

    [Fact]
    public async Task A_client_with_a_self_signed_certificate_cannot_open_a_gateway_connection()
    {
        // It trusts the cluster CA, so it accepts the silo; the silo does not accept it.
        var files = TlsFiles.Write(TestBackends.NewTempDirectory(), TestCertificateAuthority.SelfSigned("api-node"), silo.Authority.Certificate);
        await silo.AssertRefusedAsync(files.Settings());
    }

    [Fact]
    public async Task A_client_with_a_certificate_from_another_ca_cannot_open_a_gateway_connection()
    {
        var other = TestCertificateAuthority.Create("other-ca");
        var files = TlsFiles.Write(TestBackends.NewTempDirectory(), other.Issue("api-node"), silo.Authority.Certificate);
        await silo.AssertRefusedAsync(files.Settings());
    }

    [Fact]
    public async Task A_client_refuses_a_gateway_whose_certificate_is_not_from_its_ca()
    {
        // A certificate the silo would accept, but the client trusts only another CA: an impostor silo, as far as it knows.
        var other = TestCertificateAuthority.Create("other-ca");
        var files = TlsFiles.Write(TestBackends.NewTempDirectory(), silo.Authority.Issue("api-node"), other.Certificate);
        await silo.AssertRefusedAsync(files.Settings());
    }

    [Fact]
    public async Task A_silo_takes_rotated_certificate_files_at_the_next_connection_without_a_restart()
    {
        var rotating = new SecuredSilo();
        await rotating.InitializeAsync();
        try
        {
            var next = TestCertificateAuthority.Create("next-ca");
            rotating.Files.Replace(next.Issue("silo"), next.Certificate);
            var nextClient = TlsFiles.Write(TestBackends.NewTempDirectory(), next.Issue("api-node"), next.Certificate);

            // This client trusts only the new CA and holds only its certificate: it gets in once the
            // silo presents its new certificate and trusts the new CA (it reads the files again at a handshake).
            await using (var client = await ConnectWithinAsync(rotating, nextClient, TimeSpan.FromSeconds(30)))
            {
                Assert.True((await client.Grains.GetGrain<IOrgGrain>("tls-" + Guid.NewGuid().ToString("N")[..8]).CreatePlatform("Rotated")).Succeeded);
            }

            // The old CA is no longer in the silo's CA file, so its certificates no longer get in.
            var oldClient = TlsFiles.Write(TestBackends.NewTempDirectory(), rotating.Authority.Issue("api-node"), rotating.Authority.Certificate);
            await rotating.AssertRefusedAsync(oldClient.Settings());
        }
        finally
        {
            await rotating.DisposeAsync();
        }
    }

    private static async Task<Client> ConnectWithinAsync(SecuredSilo silo, TlsFiles files, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await silo.ConnectAsync(files.Settings());
            }
            catch (Exception ex) when (ex is not OperationCanceledException && clock.Elapsed < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    [Fact]
    public void Half_a_tls_configuration_is_refused_at_start_up()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("Orleans:Tls:CertificatePath", "/etc/credentials-tls/tls.crt")]).Build();
        var error = Assert.Throws<InvalidOperationException>(() => TlsSettings.From(configuration));
        Assert.Contains("CaPath", error.Message);
    }

    [Fact]
    public void A_missing_certificate_file_is_refused_at_start_up_with_its_path()
    {
        var settings = new TlsSettings { CertificatePath = "/nonexistent/tls.crt", KeyPath = "/nonexistent/tls.key", CaPath = "/nonexistent/ca.crt" };
        var error = Assert.Throws<InvalidOperationException>(() => ClusterCertificates.Load(settings));
        Assert.Contains("/nonexistent/tls.crt", error.Message);
    }

    /// <summary>One silo with TLS on, shared by the tests of the class; each test uses its own org keys.</summary>
    public sealed class SecuredSilo : IAsyncLifetime
    {
        private IHost? _host;

        public TestCertificateAuthority Authority { get; } = TestCertificateAuthority.Create("credentials-test-ca");
        public string ClusterId { get; } = TestBackends.NewServiceId();
        public int GatewayPort { get; } = TestBackends.FreePort();
        public TlsFiles Files { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var directory = TestBackends.NewTempDirectory();
            Files = TlsFiles.Write(Path.Combine(directory, "tls"), Authority.Issue("silo"), Authority.Certificate);
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection([.. ClusterSettings(), new("Orleans:SiloPort", TestBackends.FreePort().ToString()), .. Files.Settings()]);
            builder.UseOrleans(orleans =>
            {
                orleans.UseCredentialsClustering(builder.Configuration, clusterRole: false);
                var data = Path.Combine(directory, "data");
                orleans.AddCredentialsStorage(SqliteStorage.InDirectory(data), webhookKeyFile: Path.Combine(data, WebhookKeyFile.DefaultName));
            });
            _host = builder.Build();
            await _host.StartAsync();
        }

        public async Task DisposeAsync()
        {
            if (_host is null) return;
            await _host.StopAsync();
            _host.Dispose();
        }

        private IEnumerable<KeyValuePair<string, string?>> ClusterSettings() =>
        [
            new("Orleans:ClusterId", ClusterId),
            new("Orleans:ServiceId", ClusterId),
            new("Orleans:GatewayPort", GatewayPort.ToString()),
        ];

        /// <summary>An Orleans client of this silo, configured like an API node from these settings.</summary>
        public async Task<Client> ConnectAsync(IEnumerable<KeyValuePair<string, string?>> settings, Action<IClientBuilder>? configure = null)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection([.. ClusterSettings(), .. settings]);
            builder.UseOrleansClient(client =>
            {
                client.UseCredentialsClustering(builder.Configuration, clusterRole: false);
                // One attempt: a refused client fails at once (Orleans would retry until cancelled).
                client.UseConnectionRetryFilter((_, _) => Task.FromResult(false));
                configure?.Invoke(client);
            });
            var host = builder.Build();
            try
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await host.StartAsync(deadline.Token);
                return new Client(host);
            }
            catch
            {
                host.Dispose();
                throw;
            }
        }

        /// <summary>The client's connection to the gateway is closed on it: refused, not left waiting until the test's deadline.</summary>
        public async Task AssertRefusedAsync(IEnumerable<KeyValuePair<string, string?>> settings, Action<IClientBuilder>? configure = null)
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(async () => await (await ConnectAsync(settings, configure)).DisposeAsync());
            Assert.False(error is OperationCanceledException, $"not refused, timed out: {error}");
        }
    }

    public sealed class Client(IHost host) : IAsyncDisposable
    {
        public IGrainFactory Grains => host.Services.GetRequiredService<IGrainFactory>();

        public async ValueTask DisposeAsync()
        {
            await host.StopAsync();
            host.Dispose();
        }
    }
}
