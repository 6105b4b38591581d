using System.Net;
using System.Net.Sockets;

namespace Credentials.Grains.Webhooks;

/// <summary>
/// SSRF protection for webhook targets: which addresses a delivery may never reach. Checked when a
/// webhook is created and again at every connection (<see cref="WebhookSender"/>), on the addresses
/// the connection then uses, so a name that later resolves elsewhere (DNS rebinding) gains nothing.
/// </summary>
public static class TargetAddresses
{
    /// <summary>Why <paramref name="address"/> is not a permitted target, or null when it is.</summary>
    public static string? Refusal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) return Refusal(address.MapToIPv4());
        if (address.AddressFamily == AddressFamily.InterNetwork) return RefusalV4(address.GetAddressBytes());
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return "not an IP address";
        var bytes = address.GetAddressBytes();
        if (address.Equals(IPAddress.IPv6Loopback)) return "a loopback address";
        if (address.Equals(IPAddress.IPv6Any)) return "the unspecified address";
        if (bytes[0] == 0xff) return "a multicast address";
        if ((bytes[0] & 0xfe) == 0xfc) return "a private (unique local) address";
        if (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80) return "a link-local address";
        if (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0xc0) return "a site-local address";
        // IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses carry an IPv4 target.
        if (bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0) return RefusalV4(bytes[12..]);
        if (bytes.AsSpan(0, 12).SequenceEqual(Nat64Prefix)) return RefusalV4(bytes[12..]);
        return null;
    }

    private static readonly byte[] Nat64Prefix = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

    private static string? RefusalV4(byte[] b) => b switch
    {
        [0, ..] => "the unspecified (this-network) range",
        [127, ..] => "a loopback address",
        [10, ..] => "a private address",
        [172, >= 16 and <= 31, ..] => "a private address",
        [192, 168, ..] => "a private address",
        [169, 254, ..] => "a link-local address",
        [100, >= 64 and <= 127, ..] => "a shared (CGNAT) address",
        [>= 224 and <= 239, ..] => "a multicast address",
        [>= 240, ..] => "a reserved or broadcast address",
        _ => null,
    };

    /// <summary>The first refused address among <paramref name="addresses"/> and why, or null when all are permitted.</summary>
    public static string? Refusal(IReadOnlyList<IPAddress> addresses)
    {
        if (addresses.Count == 0) return "the host has no address";
        foreach (var address in addresses)
        {
            if (Refusal(address) is { } why) return $"{address} is {why}";
        }
        return null;
    }
}

/// <summary>Resolves target host names; a test replaces it to play DNS rebinding.</summary>
public class TargetResolver
{
    public virtual async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
}
