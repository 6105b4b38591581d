using System.Reflection;
using Credentials.Grains;

namespace Credentials.Tests.Grains;

/// <summary>
/// Old and new nodes call each other during a rolling upgrade, so a grain call is named on the wire by
/// its interface's alias and its method's alias. Moving or renaming either breaks mixed clusters.
/// </summary>
public sealed class OrgGrainWireTests
{
    private static readonly string[] OrgGrainCalls =
    [
        "credentials.org/platform.create", "credentials.org/platform.get",
        "credentials.org/tokens.create", "credentials.org/tokens.list", "credentials.org/tokens.revoke", "credentials.org/tokens.authenticate",
        "credentials.org/images.add", "credentials.org/images.add-with-bytes", "credentials.org/images.search.v2", "credentials.org/images.room", "credentials.org/images.get", "credentials.org/images.delete",
        "credentials.org/issuers.list.v2", "credentials.org/issuers.get", "credentials.org/issuers.create", "credentials.org/issuers.replace",
        "credentials.org/issuers.patch", "credentials.org/issuers.delete",
        "credentials.org/events.read",
        "credentials.org/webhooks.create", "credentials.org/webhooks.list", "credentials.org/webhooks.delete",
        "credentials.org/webhooks.attempts", "credentials.org/webhooks.work",
        "credentials.org/idempotency.claim", "credentials.org/idempotency.complete",
        "credentials.org/issuers.list.unless-unchanged",
        "credentials.org/renditions.plan", "credentials.org/renditions.add",
    ];

    [Fact]
    public void Every_org_grain_call_keeps_its_interface_and_method_alias_on_the_wire()
    {
        var calls = typeof(IOrgGrain).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes<CompoundTypeAliasAttribute>())
            .Select(a => a.Components)
            .Where(c => c.Length == 4 && Equals(c[0], "inv") && c[2] is Type target && target.IsAssignableFrom(typeof(IOrgGrain)))
            .Select(c => $"{((Type)c[2]).GetCustomAttribute<AliasAttribute>()?.Alias}/{c[3]}")
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(OrgGrainCalls.Order(StringComparer.Ordinal), calls);
    }
}
