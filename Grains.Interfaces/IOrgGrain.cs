using Orleans.Concurrency;

namespace Credentials.Grains;

/// <summary>
/// One grain per org (platform) key. It owns the platform record and the org's issuers, serves reads
/// from memory and acknowledges a write only once it is durable.
/// </summary>
[Alias("credentials.org")]
public interface IOrgGrain : IGrainWithStringKey
{
    [Alias("platform.create")]
    Task<Outcome<Platform>> CreatePlatform(string? name);

    [Alias("platform.get"), ReadOnly]
    Task<Platform?> GetPlatform();

    /// <summary>Creates an org API token; the secret is in the answer and nowhere else.</summary>
    [Alias("tokens.create")]
    Task<Outcome<IssuedToken>> CreateToken(string name);

    [Alias("tokens.list"), ReadOnly]
    Task<Outcome<IReadOnlyList<ApiTokenInfo>>> ListTokens();

    [Alias("tokens.revoke")]
    Task<Outcome<bool>> RevokeToken(string name);

    /// <summary>The name of the live token whose SHA-256 is <paramref name="tokenHash"/>, or null.</summary>
    [Alias("tokens.authenticate"), ReadOnly]
    Task<string?> AuthenticateToken(byte[] tokenHash);

    /// <summary>Records an image whose bytes the caller has already put in the blob store.</summary>
    [Alias("images.add")]
    Task<Outcome<ImageRecord>> AddImage(ImageUpload upload);

    /// <summary>Images whose name contains <paramref name="query"/> (case-insensitive), oldest first.</summary>
    [Alias("images.search"), ReadOnly]
    Task<Outcome<IReadOnlyList<ImageRecord>>> SearchImages(string query, int offset, int limit);

    [Alias("images.get"), ReadOnly]
    Task<Outcome<ImageRecord>> GetImage(long id);

    /// <summary>Deletes an image record; its bytes are removed once no record uses them.</summary>
    [Alias("images.delete")]
    Task<Outcome<bool>> DeleteImage(long id);

    [Alias("issuers.list"), ReadOnly]
    Task<Outcome<IssuerPage>> ListIssuers(string? query, int offset, int limit);

    [Alias("issuers.get"), ReadOnly]
    Task<Outcome<Issuer>> GetIssuer(string entityId);

    [Alias("issuers.create")]
    Task<Outcome<Issuer>> CreateIssuer(IssuerInput input);

    /// <summary>PUT: every writable field is replaced; fields not sent return to their defaults.</summary>
    [Alias("issuers.replace")]
    Task<Outcome<Issuer>> ReplaceIssuer(string entityId, IssuerInput input);

    /// <summary>PATCH: only the fields sent change.</summary>
    [Alias("issuers.patch")]
    Task<Outcome<Issuer>> PatchIssuer(string entityId, IssuerInput input);

    [Alias("issuers.delete")]
    Task<Outcome<bool>> DeleteIssuer(string entityId);
}

/// <summary>A stateless grain the API calls to prove the cluster answers (readiness).</summary>
[Alias("credentials.probe")]
public interface IProbeGrain : IGrainWithIntegerKey
{
    [Alias("ping")]
    Task<string> Ping();
}
