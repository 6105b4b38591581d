using Credentials.Grains.Membership;
using System.Net;
using Credentials.Grains.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Credentials.Grains.Hosting;

/// <summary>
/// The one place that turns the <c>Orleans</c> settings into membership and endpoints, for silos
/// (the silo host and the embedded API's co-hosted silo) and for clients (the API in client mode,
/// operator commands). A cluster role is a process that belongs to a multi-node deployment: the
/// silo host, or the API in client mode.
/// </summary>
public static class CredentialsClustering
{
    /// <summary>A silo configured by hand (tests): <paramref name="clusterRole"/> says it is the silo host rather than a co-hosted silo.</summary>
    public static ISiloBuilder UseCredentialsClustering(this ISiloBuilder silo, IConfiguration configuration, bool clusterRole) =>
        silo.UseCredentialsClustering(Topology.Of(configuration, clusterRole ? ProcessRole.Silo : ProcessRole.Embedded, clusterRole), configuration);

    public static ISiloBuilder UseCredentialsClustering(this ISiloBuilder silo, Topology topology, IConfiguration configuration)
    {
        var settings = topology.Clustering;
        // The same string as grain state's, so membership shares the process's state pool.
        var postgres = topology.StateConnectionString;
        if (topology.Membership == ClusteringKind.AdoNet)
        {
            silo.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = settings.ClusterId;
                options.ServiceId = settings.ServiceId;
            });
            // In a pod the advertised address is the pod IP and the silo listens on every interface;
            // on loopback (the local cluster) it listens on loopback only.
            if (settings.AdvertisedIP is { Length: > 0 } ip)
            {
                var advertised = IPAddress.Parse(ip);
                silo.ConfigureEndpoints(advertised, settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));
            }
            else
            {
                silo.ConfigureEndpoints(settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: true);
            }
            silo.UseAdoNetClustering(options =>
            {
                options.Invariant = PostgreSqlMembershipTable.Invariant;
                options.ConnectionString = RequirePostgres(postgres);
            });
        }
        else
        {
            silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
        }
        if (settings.SiloName is { Length: > 0 } name)
        {
            silo.Configure<SiloOptions>(options => options.SiloName = name);
        }
        // Trace context rides on grain calls only when traces are exported (Telemetry).
        if (Telemetry.ExportsTraces(configuration)) silo.AddActivityPropagation();
        return silo.UseCredentialsTls(configuration);
    }

    /// <summary>
    /// A client uses <c>Orleans:Gateways</c> when set (a fixed list, for tests), else the membership
    /// table's active gateways (AdoNet), else the co-hosted silo's gateway on localhost.
    /// <paramref name="role"/> picks the connection budget: an API node's or an operator command's.
    /// </summary>
    public static IClientBuilder UseCredentialsClustering(this IClientBuilder client, IConfiguration configuration, bool clusterRole, ProcessRole role = ProcessRole.ApiNode) =>
        client.UseCredentialsClustering(Topology.Of(configuration, role, clusterRole), configuration);

    public static IClientBuilder UseCredentialsClustering(this IClientBuilder client, Topology topology, IConfiguration configuration)
    {
        var settings = topology.Clustering;
        var postgres = topology.StateConnectionString;
        client.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = settings.ClusterId;
            options.ServiceId = settings.ServiceId;
        });
        client.Configure<ClientMessagingOptions>(options => options.ResponseTimeout = TimeSpan.FromSeconds(settings.ResponseTimeoutSeconds));
        if (settings.StaticGateways() is { Length: > 0 } gateways)
        {
            client.UseStaticClustering(gateways);
        }
        else if (topology.Membership == ClusteringKind.AdoNet)
        {
            client.UseAdoNetClustering(options =>
            {
                options.Invariant = PostgreSqlMembershipTable.Invariant;
                options.ConnectionString = RequirePostgres(postgres);
            });
            // New silos (scale-out) reach clients at the next refresh.
            client.Configure<GatewayOptions>(options => options.GatewayListRefreshPeriod = TimeSpan.FromSeconds(settings.GatewayListRefreshSeconds));
        }
        else
        {
            client.UseLocalhostClustering(settings.GatewayPort, settings.ServiceId, settings.ClusterId);
        }
        if (Telemetry.ExportsTraces(configuration)) client.AddActivityPropagation();
        return client.UseCredentialsTls(configuration);
    }

    /// <summary>
    /// With <c>Orleans:Tls</c> set, the silo and gateway listeners accept only peers with a certificate
    /// from the cluster CA, and this silo presents its own when it dials other silos (<see cref="ClusterCertificates"/>).
    /// </summary>
    public static ISiloBuilder UseCredentialsTls(this ISiloBuilder silo, IConfiguration configuration)
    {
        var tls = TlsSettings.From(configuration);
        if (!tls.Enabled) return silo;
        var certificates = ClusterCertificates.Load(tls);
        return silo.Configure<SiloConnectionOptions>(options =>
        {
            options.ConfigureSiloInboundConnection(connection => connection.UseServerTls(certificates.ServerOptions(connection.ApplicationServices)));
            options.ConfigureGatewayInboundConnection(connection => connection.UseServerTls(certificates.ServerOptions(connection.ApplicationServices)));
            options.ConfigureSiloOutboundConnection(connection => connection.UseClientTls(certificates.ClientOptions(connection.ApplicationServices)));
        });
    }

    /// <summary>With <c>Orleans:Tls</c> set, the client presents its certificate and accepts only gateways with one from the cluster CA.</summary>
    public static IClientBuilder UseCredentialsTls(this IClientBuilder client, IConfiguration configuration)
    {
        var tls = TlsSettings.From(configuration);
        if (!tls.Enabled) return client;
        var certificates = ClusterCertificates.Load(tls);
        return client.Configure<ClientConnectionOptions>(options =>
            options.ConfigureConnection(connection => connection.UseClientTls(certificates.ClientOptions(connection.ApplicationServices))));
    }

    private static string RequirePostgres(string? connectionString) =>
        string.IsNullOrWhiteSpace(connectionString)
            ? throw new InvalidOperationException("Orleans:Clustering=AdoNet keeps the membership table in PostgreSQL: set ConnectionStrings:PostgreSql.")
            : connectionString;
}

/// <summary>
/// An API node that starts before any silo (or before the database answers) keeps trying to join
/// the cluster instead of exiting; its readiness stays 503 until it has joined.
/// </summary>
public sealed partial class RetryClusterConnection(ILogger<RetryClusterConnection> logger) : IClientConnectionRetryFilter
{
    private int _attempts;

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return false;
        var attempt = Interlocked.Increment(ref _attempts);
        var delay = TimeSpan.FromSeconds(Math.Min(attempt, 5));
        LogRetry(logger, attempt, delay.TotalSeconds, exception.GetType().Name, exception.Message);
        await Task.Delay(delay, cancellationToken);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot join the Orleans cluster yet (attempt {Attempt}, next in {DelaySeconds} s): {Error}: {Reason}")]
    private static partial void LogRetry(ILogger logger, int attempt, double delaySeconds, string error, string reason);
}
