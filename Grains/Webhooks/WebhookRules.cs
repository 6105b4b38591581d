using System.Net.Sockets;

namespace Credentials.Grains.Webhooks;

/// <summary>What a webhook subscription may be: its URL, its event filter and how many an org may hold.</summary>
public static class WebhookRules
{
    public const string AllEvents = "*";
    public const int MaxUrlLength = 2048;

    private static IReadOnlyList<string> Actions => EventActions.All;

    public static string NewId() => "wh_" + ApiTokens.RandomBase64Url(12);

    /// <summary>The parsed URL, or why it cannot be a target (before any name is resolved).</summary>
    public static (Uri? Url, string? Error) Url(string? text, bool allowInsecure)
    {
        if (string.IsNullOrWhiteSpace(text)) return (null, "A URL is required.");
        if (text.Length > MaxUrlLength) return (null, $"Use at most {MaxUrlLength} characters.");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.HostNameType == UriHostNameType.Unknown)
            return (null, "Send an absolute https URL.");
        if (url.Scheme != Uri.UriSchemeHttps && !(allowInsecure && url.Scheme == Uri.UriSchemeHttp))
            return (null, "The URL must use https.");
        if (url.UserInfo.Length > 0) return (null, "The URL must not carry credentials.");
        if (url.Fragment.Length > 0) return (null, "The URL must not have a fragment.");
        return (url, null);
    }

    /// <summary>Why the target's host may not be called (it resolves to a refused address), or null.</summary>
    public static async Task<string?> HostError(Uri url, TargetResolver resolver, CancellationToken cancellationToken)
    {
        System.Net.IPAddress[] addresses;
        try
        {
            addresses = await resolver.ResolveAsync(url.IdnHost, cancellationToken);
        }
        catch (SocketException)
        {
            return $"The host '{url.Host}' could not be resolved.";
        }
        return TargetAddresses.Refusal(addresses) is { } why ? $"The URL's host is refused: {why}." : null;
    }

    /// <summary>The filter normalised (distinct, in the order sent), or why it is not valid.</summary>
    public static (string[]? Events, string? Error) Events(string[]? events)
    {
        if (events is null || events.Length == 0) return (null, $"List at least one action, or \"{AllEvents}\" for all.");
        if (events.Any(e => e is null)) return (null, "Each entry must be a string.");
        var distinct = events.Distinct(StringComparer.Ordinal).ToArray();
        if (distinct.Contains(AllEvents)) return distinct.Length == 1 ? (distinct, null) : (null, $"\"{AllEvents}\" stands alone.");
        var unknown = distinct.Where(e => !Actions.Contains(e)).ToArray();
        if (unknown.Length > 0) return (null, $"Unknown action(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", Actions)}.");
        return (distinct, null);
    }

    public static bool Matches(string[] filter, string action) => filter is [AllEvents] || filter.Contains(action);
}
