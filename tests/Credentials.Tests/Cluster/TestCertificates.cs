using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Credentials.Tests.Cluster;

/// <summary>A throwaway certificate authority made in-test, and the PEM files the <c>Orleans:Tls</c> settings point at.</summary>
public sealed class TestCertificateAuthority
{
    private static readonly OidCollection NodeUsages = [new("1.3.6.1.5.5.7.3.1"), new("1.3.6.1.5.5.7.3.2")];

    private TestCertificateAuthority(X509Certificate2 certificate) => Certificate = certificate;

    public X509Certificate2 Certificate { get; }

    public static TestCertificateAuthority Create(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return new TestCertificateAuthority(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)));
    }

    /// <summary>A node certificate (server and client authentication) signed by this CA.</summary>
    public X509Certificate2 Issue(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = NodeRequest(name, key);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var issued = request.Create(Certificate, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>A node certificate that signs itself: looks right, comes from no CA the cluster knows.</summary>
    public static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return NodeRequest(name, key).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12));
    }

    private static CertificateRequest NodeRequest(string name, ECDsa key)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(NodeUsages, critical: false));
        return request;
    }
}

/// <summary>A node's certificate, key and trusted CAs as PEM files, and the settings naming them.</summary>
public sealed record TlsFiles(string CertificatePath, string KeyPath, string CaPath)
{
    public static TlsFiles Write(string directory, X509Certificate2 certificate, params X509Certificate2[] authorities)
    {
        Directory.CreateDirectory(directory);
        var files = new TlsFiles(Path.Combine(directory, "tls.crt"), Path.Combine(directory, "tls.key"), Path.Combine(directory, "ca.crt"));
        files.Replace(certificate, authorities);
        return files;
    }

    /// <summary>Writes new contents in place, as a rotated Secret does.</summary>
    public void Replace(X509Certificate2 certificate, params X509Certificate2[] authorities)
    {
        File.WriteAllText(KeyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(CertificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(CaPath, string.Join('\n', authorities.Select(a => a.ExportCertificatePem())));
    }

    public IEnumerable<KeyValuePair<string, string?>> Settings() =>
    [
        new("Orleans:Tls:CertificatePath", CertificatePath),
        new("Orleans:Tls:KeyPath", KeyPath),
        new("Orleans:Tls:CaPath", CaPath),
    ];
}
