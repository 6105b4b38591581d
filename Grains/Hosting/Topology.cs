using Credentials.Grains.Storage;
using Microsoft.Extensions.Configuration;

namespace Credentials.Grains.Hosting;

/// <summary>What kind of process this is, as far as grains and storage go.</summary>
public enum HostKind
{
    /// <summary>The API with a co-hosted silo over SQLite under <c>Storage:DataDirectory</c> (the default).</summary>
    EmbeddedSqlite,

    /// <summary>The API with a co-hosted silo over <c>ConnectionStrings:PostgreSql</c>.</summary>
    EmbeddedPostgreSql,

    /// <summary>The API as a thin client of a separate cluster (<c>Orleans:Mode=Client</c>).</summary>
    ClusterClient,

    /// <summary>The silo host: grains and storage, no API.</summary>
    Silo,
}

/// <summary>
/// The one switch between embedded and cluster: reads <c>Orleans:Mode</c>, <c>Orleans</c> and
/// <c>Storage</c> once (failing start-up on a bad value) and says what follows from them: the
/// process's connection budget, its membership, its storage backend and whether it checks the database.
/// </summary>
public sealed class Topology
{
    private StorageBackend? _backend;

    public Topology(HostKind kind, ProcessRole role, StorageSettings storage, ClusteringSettings clustering)
    {
        Kind = kind;
        Role = role;
        Storage = storage;
        Clustering = clustering;
        Budget = new ConnectionBudget(storage, role);
    }

    public HostKind Kind { get; }

    /// <summary>This process's share of the database (an operator command is a client of the deployment <see cref="Kind"/> names).</summary>
    public ProcessRole Role { get; }

    public StorageSettings Storage { get; }

    public ClusteringSettings Clustering { get; }

    public ConnectionBudget Budget { get; }

    /// <summary>Part of a multi-node deployment (the silo host or a client-mode API): PostgreSQL then implies AdoNet membership.</summary>
    public bool InCluster => Kind is HostKind.ClusterClient or HostKind.Silo;

    /// <summary>A silo runs in this process.</summary>
    public bool HostsSilo => Role is ProcessRole.Silo or ProcessRole.Embedded;

    /// <summary>
    /// An embedded process clustering on localhost: its silo is the only one, so every org grain
    /// there is lives in this process (what <see cref="Issuers.LocalIssuerVersions"/> relies on).
    /// </summary>
    public bool IsOnlySilo => Role == ProcessRole.Embedded && Membership == ClusteringKind.Localhost;

    /// <summary>The PostgreSQL string grain state, membership and readiness share (one pool), or null on SQLite.</summary>
    public string? StateConnectionString => Budget.StateConnectionString();

    /// <summary>How silos find each other and clients find gateways.</summary>
    public ClusteringKind Membership => Clustering.Resolve(InCluster, StateConnectionString);

    /// <summary>
    /// The state database this process uses, one instance: the silo's storage, or for a client-mode
    /// API with PostgreSQL its blob store and readiness. Null for a process that touches none.
    /// </summary>
    public StorageBackend? Backend => _backend ??= HostsSilo || (Role == ProcessRole.ApiNode && Storage.UsesPostgreSql) ? CreateBackend() : null;

    /// <summary>
    /// This process applies pending PostgreSQL migrations at start (<c>Storage:AutoMigrate</c>, by
    /// default only the embedded service); otherwise it runs no DDL and refuses an older schema.
    /// </summary>
    public bool MigratesSchema => Storage.AutoMigrate ?? !InCluster;

    /// <summary>
    /// Where this process's silo keeps the webhook secret key it generates when none is configured:
    /// in the data directory when it is the only silo over its data (localhost membership); null
    /// when silos share a database (AdoNet), which must all be given the same key (ADR 0019).
    /// </summary>
    public string? WebhookKeyFile => HostsSilo && Membership == ClusteringKind.Localhost
        ? Path.Combine(Storage.DataDirectory, Webhooks.WebhookKeyFile.DefaultName)
        : null;

    /// <summary>Readiness includes the database whenever this process uses one.</summary>
    public bool ChecksDatabase => Backend is not null;

    private StorageBackend CreateBackend() => Storage.PostgreSql is { } postgres
        ? new PostgreSqlStorage(Budget.State(postgres)) { BlobConnectionString = Budget.Blobs(postgres) }
        : SqliteStorage.InDirectory(Storage.DataDirectory);

    /// <summary>The API process: <c>Orleans:Mode</c> is <c>Embedded</c> (default) or <c>Client</c>; anything else fails start-up.</summary>
    public static Topology ForApi(IConfiguration configuration) => ForApiDeployment(configuration, command: false);

    /// <summary>An operator command: a client of the deployment the API's configuration describes.</summary>
    public static Topology ForCommand(IConfiguration configuration) => ForApiDeployment(configuration, command: true);

    public static Topology ForSilo(IConfiguration configuration) =>
        new(HostKind.Silo, ProcessRole.Silo, StorageSettings.From(configuration), ClusteringSettings.From(configuration));

    /// <summary>For hosts built by hand (tests): a silo or client that is, or is not, part of a cluster.</summary>
    public static Topology Of(IConfiguration configuration, ProcessRole role, bool inCluster)
    {
        var storage = StorageSettings.From(configuration);
        var kind = inCluster
            ? role is ProcessRole.Silo or ProcessRole.Embedded ? HostKind.Silo : HostKind.ClusterClient
            : Embedded(storage);
        return new Topology(kind, role, storage, ClusteringSettings.From(configuration));
    }

    private static Topology ForApiDeployment(IConfiguration configuration, bool command)
    {
        var storage = StorageSettings.From(configuration);
        var mode = configuration["Orleans:Mode"];
        HostKind kind;
        if (string.IsNullOrWhiteSpace(mode) || string.Equals(mode.Trim(), "Embedded", StringComparison.OrdinalIgnoreCase))
        {
            kind = Embedded(storage);
        }
        else if (string.Equals(mode.Trim(), "Client", StringComparison.OrdinalIgnoreCase))
        {
            kind = HostKind.ClusterClient;
        }
        else
        {
            throw new InvalidOperationException(
                $"Orleans:Mode '{mode}' is not known: use Embedded (the default, a silo in this process) or Client (join a separate cluster).");
        }
        var role = command ? ProcessRole.Command : kind == HostKind.ClusterClient ? ProcessRole.ApiNode : ProcessRole.Embedded;
        return new Topology(kind, role, storage, ClusteringSettings.From(configuration));
    }

    private static HostKind Embedded(StorageSettings storage) => storage.UsesPostgreSql ? HostKind.EmbeddedPostgreSql : HostKind.EmbeddedSqlite;
}
