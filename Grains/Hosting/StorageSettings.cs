using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Credentials.Grains.Hosting;

/// <summary>
/// Where state lives, shared by the silo host, the API (both modes) and the admin token: section
/// <c>Storage</c> plus <c>ConnectionStrings:PostgreSql</c>. Read once per process by <see cref="Topology"/>.
/// </summary>
public sealed class StorageSettings
{
    public const string Section = "Storage";

    private string _dataDirectory = "data";

    /// <summary>SQLite database, file blobs and the admin token's hash (default <c>data</c>, relative to where the process runs).</summary>
    public string DataDirectory
    {
        get => _dataDirectory;
        set => _dataDirectory = string.IsNullOrEmpty(value) ? "data" : value;
    }

    /// <summary><c>ConnectionStrings:PostgreSql</c>; null when unset (SQLite).</summary>
    public string? PostgreSql { get; set; }

    public bool UsesPostgreSql => PostgreSql is not null;

    /// <summary>
    /// Whether this process applies pending PostgreSQL schema migrations at start. Unset: yes for the
    /// embedded service, no in a cluster (silos and API nodes only check the version and refuse an
    /// older schema; run <c>Credentials.Api migrate</c>). SQLite always creates its own schema.
    /// </summary>
    public bool? AutoMigrate { get; set; }

    /// <summary>
    /// The connection string <c>Credentials.Api migrate</c> uses, for a role with DDL rights; unset:
    /// <c>ConnectionStrings:PostgreSql</c>. The service itself never reads it.
    /// </summary>
    public string? MigrationConnectionString { get; set; }

    /// <summary>Connections in the state pool (grain state, membership, readiness). Unset: the role's default (<see cref="ConnectionBudget"/>).</summary>
    [Range(1, 1000)]
    public int? MaxPoolSize { get; set; }

    /// <summary>Connections in the blob store's pool. Unset: the role's default.</summary>
    [Range(1, 1000)]
    public int? BlobMaxPoolSize { get; set; }

    /// <summary>
    /// How long opening a connection may take, waiting for a free one in the pool included. Short, so
    /// a request meets an exhausted pool with a quick 503 rather than hanging.
    /// </summary>
    [Range(1, 300)]
    public int ConnectionTimeoutSeconds { get; set; } = 5;

    /// <summary>Reads and validates the settings; an invalid value fails start-up with its key named.</summary>
    public static StorageSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<StorageSettings>() ?? new StorageSettings();
        settings.PostgreSql = configuration.GetConnectionString("PostgreSql") is { } postgres && !string.IsNullOrWhiteSpace(postgres) ? postgres : null;
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(settings, new ValidationContext(settings), errors, validateAllProperties: true))
        {
            throw new InvalidOperationException("Invalid Storage settings: " + string.Join("; ", errors.Select(e => e.ErrorMessage)));
        }
        return settings;
    }
}
