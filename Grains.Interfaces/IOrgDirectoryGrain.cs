using Orleans.Concurrency;

namespace Credentials.Grains;

/// <summary>
/// The set of orgs (platforms) that exist, one grain per cluster (key 0). API nodes keep a copy so
/// a credential naming an org that does not exist is refused without activating that org's grain.
/// Orgs are only ever added; the list's order is stable within one <see cref="OrgDirectoryChanges.Epoch"/>.
/// </summary>
[Alias("credentials.org-directory")]
public interface IOrgDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Adds an org whose platform record is already durable. Idempotent.</summary>
    [Alias("register")]
    Task Register(string org);

    /// <summary>
    /// The orgs after the first <paramref name="position"/> of <paramref name="epoch"/>'s list, a
    /// bounded page at a time; from the start when the epoch is not the directory's current one.
    /// </summary>
    [Alias("changes"), ReadOnly]
    Task<OrgDirectoryChanges> GetChanges(Guid epoch, int position);
}

/// <summary>A page of the directory's list: <see cref="Orgs"/> start at <see cref="Position"/> of <see cref="Epoch"/>'s list of <see cref="Total"/>.</summary>
[GenerateSerializer, Immutable, Alias("credentials.org-directory-changes.v1")]
public sealed record OrgDirectoryChanges(
    [property: Id(0)] Guid Epoch,
    [property: Id(1)] int Position,
    [property: Id(2)] string[] Orgs,
    [property: Id(3)] int Total);
