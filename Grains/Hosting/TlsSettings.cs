using Microsoft.Extensions.Configuration;

namespace Credentials.Grains.Hosting;

/// <summary>
/// Section <c>Orleans:Tls</c>: mutual TLS on the silo-to-silo and gateway connections. Off unless
/// <see cref="CertificatePath"/> is set; then every silo and client presents this certificate and
/// accepts only peers whose certificate chains to the CA in <see cref="CaPath"/> (in Kubernetes,
/// a Secret mounted as files: <c>tls.crt</c>, <c>tls.key</c>, <c>ca.crt</c>).
/// </summary>
public sealed class TlsSettings
{
    public const string Section = "Orleans:Tls";

    /// <summary>This node's certificate: PEM (with <see cref="KeyPath"/>, or the key in the same file) or PKCS#12 (<c>.pfx</c>, <c>.p12</c>).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of <see cref="CertificatePath"/>, unless that file holds it.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PKCS#12 certificate file.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// The cluster CA, PEM: one or more certificates (several while a new CA is rolled out). Only
    /// these are trusted; the system's trust store is not consulted.
    /// </summary>
    public string? CaPath { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);

    public static TlsSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<TlsSettings>() ?? new TlsSettings();
        var anySet = new[] { settings.CertificatePath, settings.KeyPath, settings.CaPath }.Any(p => !string.IsNullOrWhiteSpace(p));
        if (anySet && (!settings.Enabled || string.IsNullOrWhiteSpace(settings.CaPath)))
        {
            throw new InvalidOperationException(
                "Orleans:Tls needs both CertificatePath (this node's certificate) and CaPath (the cluster CA), or neither (TLS off).");
        }
        return settings;
    }
}
