using System.Collections.Concurrent;
using Credentials.Grains.Storage;

namespace Credentials.Grains.Issuers;

/// <summary>
/// In a process whose silo is the only one (the embedded default: localhost clustering), the org
/// grains active here show their issuers' current version, so the API's issuer page cache can
/// confirm a page without a grain call (ADR 0021). A grain shows its version once its platform
/// exists and takes it back when it deactivates or a commit fails; an org not shown here is
/// confirmed by the grain as before. Off (shows nothing) wherever another silo could host the org.
/// </summary>
public sealed class LocalIssuerVersions(bool enabled)
{
    /// <summary>For processes where a grain may live in another silo: nothing is ever shown.</summary>
    public static LocalIssuerVersions Off { get; } = new(enabled: false);

    private readonly ConcurrentDictionary<string, ChunkedCollection<Issuer>> _orgs = new(StringComparer.Ordinal);

    public bool Enabled => enabled;

    /// <summary>Called by the org grain, in its turn, when its platform exists and its issuers are loaded.</summary>
    internal void Show(string org, ChunkedCollection<Issuer> issuers)
    {
        if (enabled) _orgs[org] = issuers;
    }

    /// <summary>Called by the org grain when its memory stops being the org's truth (deactivation, failed commit).</summary>
    internal void Withdraw(string org, ChunkedCollection<Issuer> issuers)
    {
        if (enabled) _orgs.TryRemove(new KeyValuePair<string, ChunkedCollection<Issuer>>(org, issuers));
    }

    /// <summary>
    /// Shows <paramref name="issuers"/> for <paramref name="org"/> until the returned handle is
    /// disposed: the API's start-up warm-up reads a synthetic page of an org key drawn at random
    /// (no client knows it, and no grain holds it) the way clients read theirs.
    /// </summary>
    public IDisposable ShowWhile(string org, ChunkedCollection<Issuer> issuers)
    {
        Show(org, issuers);
        return new Shown(this, org, issuers);
    }

    private sealed class Shown(LocalIssuerVersions board, string org, ChunkedCollection<Issuer> issuers) : IDisposable
    {
        public void Dispose() => board.Withdraw(org, issuers);
    }

    /// <summary>
    /// True when the org's grain is active in this process and its issuers are at
    /// <paramref name="version"/>: every write acknowledged so far is in a page taken at that version.
    /// </summary>
    public bool IsCurrent(string org, long version) =>
        enabled && _orgs.TryGetValue(org, out var issuers) && issuers.Version == version;
}
