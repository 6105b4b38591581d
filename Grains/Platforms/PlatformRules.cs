using Credentials.Grains.Issuers;

namespace Credentials.Grains.Platforms;

/// <summary>What a valid platform is: its key follows <see cref="OrgKeys"/>; its name is checked here.</summary>
public static class PlatformRules
{
    public const int NameMax = 255;

    /// <summary>The trimmed name, the key when none is given; or the error for the "name" field.</summary>
    public static (string? Name, string? Error) Name(string? requested, string key)
    {
        var trimmed = string.IsNullOrWhiteSpace(requested) ? key : requested.Trim();
        if (IssuerRules.CodePoints(trimmed) > NameMax || IssuerRules.HasControlCharacter(trimmed))
            return (null, $"Ensure this field has no more than {NameMax} characters and no control characters.");
        return (trimmed, null);
    }
}
