using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Connections.Security;

namespace Credentials.Grains.Hosting;

/// <summary>
/// This node's certificate and the cluster CA, read from the files <see cref="TlsSettings"/> names
/// and read again when they change, so a rotated Secret takes effect at the next connection without
/// a restart. Connections already open keep the certificate they were made with.
/// </summary>
public sealed partial class ClusterCertificates
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly TlsSettings _settings;
    private readonly Lock _lock = new();
    private Loaded _current;
    private long _checkedAt;
    private ILogger _logger = NullLogger.Instance;

    private sealed record Loaded(byte[] Fingerprint, X509Certificate2 Certificate, X509Certificate2Collection Authorities);

    private ClusterCertificates(TlsSettings settings)
    {
        _settings = settings;
        _current = Read(settings, Fingerprint(settings));
        _checkedAt = Environment.TickCount64;
    }

    /// <summary>Reads the files now, so a missing or unreadable file stops the process at start-up.</summary>
    public static ClusterCertificates Load(TlsSettings settings) => new(settings);

    public X509Certificate2 Certificate => Current().Certificate;

    public X509Certificate2Collection Authorities => Current().Authorities;

    /// <summary>
    /// Whether a peer's certificate chains to the cluster CA (only to it: the system trust store plays
    /// no part) and may be used for <paramref name="role"/>. Host names are not checked: pods come and
    /// go with new addresses, and holding a certificate from the cluster CA is what makes a member.
    /// </summary>
    public bool IsTrusted(X509Certificate2 peer, X509Chain? presented, TlsRole role)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(role == TlsRole.Client ? ClientAuthentication : ServerAuthentication);
        // Intermediates the peer sent along.
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                if (!element.Certificate.Equals(peer)) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        if (chain.Build(peer)) return true;
        LogRejected(_logger, peer.Subject, peer.Issuer, role, string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim())));
        return false;
    }

    /// <summary>TLS options for one side of a connection: present our certificate, require and check the peer's.</summary>
    public TlsOptions Options(IServiceProvider services)
    {
        if (services.GetService<ILoggerFactory>() is { } loggers) _logger = loggers.CreateLogger<ClusterCertificates>();
        return new TlsOptions
        {
            // The client side checks the certificate it starts with; the selectors hand out the current one.
            LocalCertificate = Certificate,
            LocalServerCertificateSelector = (_, _) => Certificate,
            LocalClientCertificateSelector = (_, _, _, _, _) => Certificate,
            RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
            ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
        };
    }

    /// <summary>Server side (silo and gateway listeners): only clients with a certificate from the cluster CA.</summary>
    public TlsOptions ServerOptions(IServiceProvider services)
    {
        var options = Options(services);
        options.RemoteCertificateValidation = (peer, chain, _) => IsTrusted(peer, chain, TlsRole.Client);
        return options;
    }

    /// <summary>Client side (API nodes, operator commands, a silo dialling another): only silos with a certificate from the cluster CA.</summary>
    public TlsOptions ClientOptions(IServiceProvider services)
    {
        var options = Options(services);
        options.RemoteCertificateValidation = (peer, chain, _) => IsTrusted(peer, chain, TlsRole.Server);
        return options;
    }

    private Loaded Current()
    {
        lock (_lock)
        {
            if (Environment.TickCount64 - _checkedAt < CheckInterval.TotalMilliseconds) return _current;
            _checkedAt = Environment.TickCount64;
            try
            {
                var fingerprint = Fingerprint(_settings);
                if (!fingerprint.AsSpan().SequenceEqual(_current.Fingerprint))
                {
                    _current = Read(_settings, fingerprint);
                    LogReloaded(_logger, _current.Certificate.Subject, _current.Certificate.NotAfter);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or InvalidOperationException)
            {
                // A Secret half-way through an update, say: keep the last good pair and look again later.
                LogReloadFailed(_logger, ex.Message);
            }
            return _current;
        }
    }

    /// <summary>A hash of the files' contents: cheap to compare on every handshake, and exact.</summary>
    private static byte[] Fingerprint(TlsSettings settings)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var path in Paths(settings)) hash.AppendData(ReadFile(path));
        return hash.GetHashAndReset();
    }

    private static IEnumerable<string> Paths(TlsSettings settings) =>
        new[] { settings.CertificatePath, settings.KeyPath, settings.CaPath }.Where(p => !string.IsNullOrWhiteSpace(p))!;

    private static byte[] ReadFile(string path) =>
        File.Exists(path) ? File.ReadAllBytes(path) : throw new InvalidOperationException($"{TlsSettings.Section}: the file '{path}' does not exist.");

    private static Loaded Read(TlsSettings settings, byte[] fingerprint)
    {
        var path = settings.CertificatePath!;
        X509Certificate2 certificate;
        if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, settings.CertificatePassword);
        }
        else
        {
            using var pem = X509Certificate2.CreateFromPemFile(path, string.IsNullOrWhiteSpace(settings.KeyPath) ? null : settings.KeyPath);
            // A PEM key is ephemeral; Windows' TLS stack only uses a key it can persist, so go through PKCS#12.
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"{TlsSettings.Section}: '{path}' has no private key (set KeyPath to the key file).");
        }

        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(settings.CaPath!);
        if (authorities.Count == 0)
        {
            throw new InvalidOperationException($"{TlsSettings.Section}: '{settings.CaPath}' holds no PEM certificate.");
        }
        return new Loaded(fingerprint, certificate, authorities);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a TLS peer ({Subject}, issued by {Issuer}) as {Role}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string subject, string issuer, TlsRole role, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded the rotated cluster certificate {Subject}, valid until {NotAfter:u}")]
    private static partial void LogReloaded(ILogger logger, string subject, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read the rotated cluster certificate files; keeping the previous ones: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string reason);
}

/// <summary>Which end of a TLS connection a peer is.</summary>
public enum TlsRole
{
    Client,
    Server,
}
