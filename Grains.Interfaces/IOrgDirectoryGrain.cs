using Orleans.Concurrency;

namespace Credentials.Grains;

/// <summary>
/// The platforms (orgs) that exist, one grain per cluster (key 0). API nodes keep a copy of the
/// keys so a credential naming an org that does not exist is refused without activating that org's
/// grain; the super-admin lists the platforms from here. Orgs are only ever added; the list's
/// order is stable within one <see cref="OrgDirectoryChanges.Epoch"/>.
/// </summary>
[Alias("credentials.org-directory")]
public interface IOrgDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Adds a platform whose record is already durable. Idempotent.</summary>
    [Alias("register.v2")]
    Task Register(Platform platform);

    /// <summary>
    /// The orgs after the first <paramref name="position"/> of <paramref name="epoch"/>'s list, a
    /// bounded page at a time; from the start when the epoch is not the directory's current one.
    /// </summary>
    [Alias("changes"), ReadOnly]
    Task<OrgDirectoryChanges> GetChanges(Guid epoch, int position);

    /// <summary>
    /// Up to <paramref name="limit"/> platforms in key order (ordinal), from <paramref name="offset"/>
    /// or, when <paramref name="after"/> is set, from the first key after it. A reply carries at most
    /// <c>Limits:MaxReplyBytes</c> of platforms (at least one); <see cref="PlatformPage.ContinueAfter"/>
    /// then names the key to continue after.
    /// </summary>
    [Alias("platforms.list"), ReadOnly]
    Task<PlatformPage> ListPlatforms(int offset, int limit, string? after = null);
}

/// <summary>A page of the directory's list: <see cref="Orgs"/> start at <see cref="Position"/> of <see cref="Epoch"/>'s list of <see cref="Total"/>.</summary>
[GenerateSerializer, Immutable, Alias("credentials.org-directory-changes.v1")]
public sealed record OrgDirectoryChanges(
    [property: Id(0)] Guid Epoch,
    [property: Id(1)] int Position,
    [property: Id(2)] string[] Orgs,
    [property: Id(3)] int Total);

/// <summary>One reply of <see cref="IOrgDirectoryGrain.ListPlatforms"/>: <see cref="Count"/> is every platform.</summary>
[GenerateSerializer, Immutable, Alias("credentials.platform-page.v1")]
public sealed record PlatformPage(
    [property: Id(0)] int Count,
    [property: Id(1)] IReadOnlyList<Platform> Items,
    [property: Id(2)] string? ContinueAfter = null);
