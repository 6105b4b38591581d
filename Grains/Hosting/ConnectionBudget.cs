using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Credentials.Grains.Hosting;

/// <summary>What a process is, for its share of the database's connections.</summary>
public enum ProcessRole
{
    /// <summary>The silo host: grain state, membership, blob lookups of the org grains.</summary>
    Silo,

    /// <summary>The API in client mode: membership (gateways) and readiness, and the blob store for uploads and media.</summary>
    ApiNode,

    /// <summary>The API co-hosting a silo (the embedded default): both of the above in one process.</summary>
    Embedded,

    /// <summary>An operator command joining the cluster as a client: reads the gateways once.</summary>
    Command,
}

/// <summary>
/// How many PostgreSQL connections this process may hold. Npgsql pools per connection string and
/// defaults to 100 per pool, so without a budget a handful of processes can exhaust the server
/// (53300, too many clients). Every connection string the process uses comes from here: grain
/// state, membership and readiness share one pool (the same string), the blob store has its own,
/// so blob traffic cannot starve state writes. The sum over every process must stay below the
/// server's <c>max_connections</c> (docs/operations.md, "Connection budget"). The sizes are
/// <see cref="StorageSettings"/>; unset, the role's defaults.
/// </summary>
public sealed class ConnectionBudget(StorageSettings settings, ProcessRole role)
{
    /// <summary>The pools each role opens unless configured: (state, blobs).</summary>
    public static (int State, int Blobs) Defaults(ProcessRole role) => role switch
    {
        ProcessRole.Silo => (8, 2),
        ProcessRole.ApiNode => (2, 4),
        ProcessRole.Embedded => (8, 4),
        _ => (2, 1),
    };

    public ProcessRole Role => role;

    public int StatePoolSize => settings.MaxPoolSize ?? Defaults(role).State;
    public int BlobPoolSize => settings.BlobMaxPoolSize ?? Defaults(role).Blobs;

    public static ConnectionBudget From(IConfiguration configuration, ProcessRole role) => new(StorageSettings.From(configuration), role);

    /// <summary><c>ConnectionStrings:PostgreSql</c> with the state pool applied, or null when PostgreSQL is not configured.</summary>
    public static string? StateConnectionString(IConfiguration configuration, ProcessRole role) =>
        new ConnectionBudget(StorageSettings.From(configuration), role).StateConnectionString();

    /// <summary>The configured PostgreSQL with the state pool applied, or null on SQLite.</summary>
    public string? StateConnectionString() => settings.PostgreSql is { } postgres ? State(postgres) : null;

    /// <summary>The connection string for grain state, membership and readiness: one pool per process.</summary>
    public string State(string connectionString) => Apply(connectionString, StatePoolSize);

    /// <summary>The connection string for the blob store's own pool.</summary>
    public string Blobs(string connectionString) => Apply(connectionString, BlobPoolSize);

    // These settings win over the same keys in the connection string: the budget is set in one place.
    private string Apply(string connectionString, int poolSize) => new NpgsqlConnectionStringBuilder(connectionString)
    {
        MaxPoolSize = poolSize,
        MinPoolSize = 0,
        Timeout = settings.ConnectionTimeoutSeconds,
    }.ConnectionString;
}
