using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Configuration;

namespace Credentials.Grains.Hosting;

/// <summary>How silos find each other and clients find gateways.</summary>
public enum ClusteringKind
{
    /// <summary>One silo on this machine (the embedded default and single-process development).</summary>
    Localhost,

    /// <summary>The membership table in PostgreSQL (Microsoft.Orleans.Clustering.AdoNet): a real cluster.</summary>
    AdoNet,
}

/// <summary>
/// Section <c>Orleans</c>, shared by the silo host, the co-hosted silo of the embedded API and the
/// API in client mode, so the same keys mean the same thing everywhere (and in Kubernetes).
/// </summary>
public sealed class ClusteringSettings
{
    [Required]
    public string ClusterId { get; set; } = "credentials";

    [Required]
    public string ServiceId { get; set; } = "credentials";

    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// <c>Localhost</c> or <c>AdoNet</c>. Unset: <c>AdoNet</c> for cluster roles (the silo host, the
    /// API in client mode) when <c>ConnectionStrings:PostgreSql</c> is set, else <c>Localhost</c>.
    /// </summary>
    public ClusteringKind? Clustering { get; set; }

    /// <summary>The address other silos and clients use to reach this silo (the pod IP in Kubernetes).</summary>
    public string? AdvertisedIP { get; set; }

    /// <summary>This silo's name in the membership table (the pod name in Kubernetes).</summary>
    public string? SiloName { get; set; }

    /// <summary>Clients only: a fixed, comma-separated gateway list (host:port) instead of membership.</summary>
    public string? Gateways { get; set; }

    /// <summary>Clients only: how often the gateway list is re-read from the membership table.</summary>
    [Range(1, 3600)]
    public int GatewayListRefreshSeconds { get; set; } = 10;

    /// <summary>
    /// Clients only: how long a grain call may go unanswered. A request in flight to a silo that
    /// crashes gets no answer at all, so this bounds how long it hangs (Orleans' default is 30 s).
    /// </summary>
    [Range(1, 600)]
    public int ResponseTimeoutSeconds { get; set; } = 10;

    public static ClusteringSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection("Orleans").Get<ClusteringSettings>() ?? new ClusteringSettings();
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(settings, new ValidationContext(settings), errors, validateAllProperties: true))
        {
            throw new InvalidOperationException("Invalid Orleans settings: " + string.Join("; ", errors.Select(e => e.ErrorMessage)));
        }
        if (settings.AdvertisedIP is { Length: > 0 } ip && !IPAddress.TryParse(ip, out _))
        {
            throw new InvalidOperationException($"Orleans:AdvertisedIP '{ip}' is not an IP address.");
        }
        return settings;
    }

    /// <summary>The clustering in force: the explicit setting, else what the role and storage imply.</summary>
    public ClusteringKind Resolve(bool clusterRole, string? postgresConnectionString) =>
        Clustering ?? (clusterRole && !string.IsNullOrWhiteSpace(postgresConnectionString) ? ClusteringKind.AdoNet : ClusteringKind.Localhost);

    public IPEndPoint[] StaticGateways() =>
        (Gateways ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(IPEndPoint.Parse).ToArray();
}
