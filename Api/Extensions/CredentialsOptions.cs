using System.ComponentModel.DataAnnotations;

namespace Credentials.Api.Extensions;

/// <summary>Section <c>Api</c>: how the front end forms URLs and what bodies it accepts.</summary>
public sealed class ApiOptions
{
    /// <summary>Absolute base URL used in links (pagination, media); else taken from the request.</summary>
    [Url]
    public string? PublicBaseUrl { get; set; }

    /// <summary>Honour X-Forwarded-Proto/Host/For; only behind a proxy you control.</summary>
    public bool TrustForwardedHeaders { get; set; }

    /// <summary>Largest JSON or form body accepted for issuer and platform writes.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public long MaxBodyBytes { get; set; } = 1024 * 1024;
}

/// <summary>Section <c>Auth</c>.</summary>
public sealed class AuthOptions
{
    /// <summary>The platform super-admin token. When empty, one is generated on first start.</summary>
    public string? AdminToken { get; set; }
}

/// <summary>Section <c>Orleans</c>: the co-hosted silo of the embedded default.</summary>
public sealed class OrleansHostOptions
{
    [Required]
    public string ClusterId { get; set; } = "credentials";

    [Required]
    public string ServiceId { get; set; } = "credentials";

    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;
}
