using System.Globalization;
using System.Text.RegularExpressions;

namespace Credentials.Grains.Issuers;

/// <summary>
/// The contract's validation table for issuers (A4, B4). Lengths count Unicode code points, as
/// Django does; strings are trimmed as Django REST Framework's CharField trims them.
/// </summary>
public static partial class IssuerRules
{
    public const int NameMax = 255;
    public const int EmailMax = 254;
    public const int UrlMax = 2048;
    public const int TagsMax = 100;
    public const int TagMax = 100;
    public const int SignatoriesMax = 50;
    public const int SignatoryKeyMax = 100;
    public const int SignatoryValueMax = 2048;

    // \z, not $: in .NET "$" also matches before a final newline, which would let "id\n" through.
    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}\\z")]
    private static partial Regex EntityIdPattern();

    // Django's EmailValidator: a dot-atom (or quoted) user part and a domain of labels.
    [GeneratedRegex("""^([-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+)*|"([\x01-\x08\x0b\x0c\x0e-\x1f!#-\[\]-\x7f]|\\[\x01-\x09\x0b\x0c\x0d-\x7f])*")\z""")]
    private static partial Regex EmailUserPattern();

    [GeneratedRegex("^((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+)(?:[A-Za-z0-9-]{2,63}(?<!-))\\z")]
    private static partial Regex EmailDomainPattern();

    /// <summary>A new random entityId: 128 random bits as 22 URL-safe base64 characters.</summary>
    public static string NewEntityId() => ApiTokens.RandomBase64Url(16);

    public static bool IsValidEntityId(string value) => EntityIdPattern().IsMatch(value);

    /// <summary>
    /// The errors for an entityId the client chose (its shape, then whether it is free) together with
    /// the body's parse errors; null when it may be used. An empty string is a chosen entityId, not an absent one.
    /// </summary>
    public static Dictionary<string, string[]>? RequestedEntityIdErrors(IssuerInput input, string entityId, bool taken)
    {
        if (!IsValidEntityId(entityId)) return WithError(input, "entityId", "Use 1 to 64 letters, digits, '_' or '-'.");
        if (taken) return WithError(input, "entityId", "An issuer with this entityId already exists.");
        return null;
    }

    private static Dictionary<string, string[]> WithError(IssuerInput input, string field, string message)
    {
        var errors = input.ParseErrors?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? [];
        errors[field] = errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];
        return errors;
    }

    /// <summary>An issuer's estimated size in memory, for bounding chunks (not the quota's <c>RecordSize</c>).</summary>
    public static int ChunkSize(Issuer issuer)
    {
        var size = 64 + issuer.EntityId.Length + issuer.Name.Length + (issuer.Email?.Length ?? 0)
            + (issuer.Url?.Length ?? 0) + (issuer.IconImage?.Length ?? 0);
        if (issuer.AllowedTemplateTags is { } tags) foreach (var tag in tags) size += tag.Length + 3;
        foreach (var (key, value) in issuer.Signatories) size += key.Length + value.Length + 6;
        return size * 2;
    }

    /// <summary>
    /// Applies <paramref name="input"/> to <paramref name="current"/> (null for a create). When
    /// <paramref name="patch"/> is false every field not sent returns to its default.
    /// </summary>
    public static (Issuer? Issuer, Dictionary<string, string[]>? Errors) Apply(
        IssuerInput input, Issuer? current, bool patch, string entityId)
    {
        var errors = new Errors(input.ParseErrors);
        var baseline = patch && current is not null
            ? current
            : new Issuer(entityId, "", null, null, null, null, EmptySignatories);

        var name = baseline.Name;
        if (input.Name.IsSet || !patch)
        {
            name = ValidateName(input.Name, errors);
        }

        var email = Optional(input.Email, baseline.Email, patch, errors, "email", ValidateEmail);
        var url = Optional(input.Url, baseline.Url, patch, errors, "url", ValidateUrl);
        var icon = Optional(input.IconImage, baseline.IconImage, patch, errors, "iconImage", ValidateUrl);

        var tags = baseline.AllowedTemplateTags;
        if (input.AllowedTemplateTags.IsSet || !patch)
        {
            tags = ValidateTags(input.AllowedTemplateTags.Value, errors);
        }

        var signatories = baseline.Signatories;
        if (input.Signatories.IsSet || !patch)
        {
            signatories = ValidateSignatories(input.Signatories.Value, errors);
        }

        if (errors.Any) return (null, errors.ToDictionary());
        return (new Issuer(entityId, name!, email, url, icon, tags, signatories), null);
    }

    public static readonly IReadOnlyDictionary<string, string> EmptySignatories = new Dictionary<string, string>();

    private static string? ValidateName(Field<string> field, Errors errors)
    {
        if (errors.Has("name")) return null;
        if (!field.IsSet)
        {
            errors.Add("name", "This field is required.");
            return null;
        }
        if (field.Value is null)
        {
            errors.Add("name", "This field may not be null.");
            return null;
        }
        var name = field.Value.Trim();
        if (name.Length == 0) errors.Add("name", "This field may not be blank.");
        else if (CodePoints(name) > NameMax) errors.Add("name", $"Ensure this field has no more than {NameMax} characters.");
        else if (HasControlCharacter(name)) errors.Add("name", "Control characters are not allowed.");
        return name;
    }

    private static string? Optional(Field<string> field, string? baseline, bool patch, Errors errors, string key, Func<string, string?> validate)
    {
        if (!field.IsSet) return patch ? baseline : null;
        if (errors.Has(key)) return null;
        var value = field.Value?.Trim();
        // An empty value clears the field: the form encodings have no other way to send null.
        if (string.IsNullOrEmpty(value)) return null;
        var problem = validate(value);
        if (problem is not null) errors.Add(key, problem);
        return value;
    }

    private static string? ValidateEmail(string value)
    {
        if (CodePoints(value) > EmailMax) return $"Ensure this field has no more than {EmailMax} characters.";
        var at = value.LastIndexOf('@');
        if (at <= 0 || at == value.Length - 1) return "Enter a valid email address.";
        var user = value[..at];
        var domain = value[(at + 1)..];
        if (!EmailUserPattern().IsMatch(user)) return "Enter a valid email address.";
        if (domain == "localhost") return null;
        string ascii;
        try
        {
            ascii = new IdnMapping().GetAscii(domain);
        }
        catch (ArgumentException)
        {
            return "Enter a valid email address.";
        }
        return EmailDomainPattern().IsMatch(ascii) ? null : "Enter a valid email address.";
    }

    private static string? ValidateUrl(string value)
    {
        if (CodePoints(value) > UrlMax) return $"Ensure this field has no more than {UrlMax} characters.";
        if (HasControlCharacter(value) || value.Any(char.IsWhiteSpace)) return "Enter a valid URL.";
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)) return "Enter a valid URL.";
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) return "Enter a valid URL.";
        return string.IsNullOrEmpty(uri.Host) ? "Enter a valid URL." : null;
    }

    private static IReadOnlyList<string>? ValidateTags(IReadOnlyList<string>? tags, Errors errors)
    {
        if (errors.Has("allowed_template_tags") || tags is null) return null;
        if (tags.Count > TagsMax)
        {
            errors.Add("allowed_template_tags", $"Ensure this field has no more than {TagsMax} elements.");
            return null;
        }
        for (var i = 0; i < tags.Count; i++)
        {
            var tag = tags[i];
            if (tag is null) errors.Add("allowed_template_tags", $"Item {i}: this field may not be null.");
            else if (tag.Length == 0) errors.Add("allowed_template_tags", $"Item {i}: this field may not be blank.");
            else if (CodePoints(tag) > TagMax) errors.Add("allowed_template_tags", $"Item {i}: ensure this field has no more than {TagMax} characters.");
        }
        return tags.ToArray();
    }

    private static IReadOnlyDictionary<string, string> ValidateSignatories(IReadOnlyDictionary<string, string>? signatories, Errors errors)
    {
        if (errors.Has("signatories") || signatories is null) return EmptySignatories;
        if (signatories.Count > SignatoriesMax)
        {
            errors.Add("signatories", $"Ensure this field has no more than {SignatoriesMax} entries.");
            return EmptySignatories;
        }
        foreach (var (key, value) in signatories)
        {
            if (key.Length == 0 || CodePoints(key) > SignatoryKeyMax)
                errors.Add("signatories", $"Each key must be 1 to {SignatoryKeyMax} characters.");
            else if (value is null)
                errors.Add("signatories", $"The value of \"{key}\" may not be null.");
            else if (CodePoints(value) > SignatoryValueMax)
                errors.Add("signatories", $"The value of \"{key}\" must be at most {SignatoryValueMax} characters.");
        }
        return new Dictionary<string, string>(signatories, StringComparer.Ordinal);
    }

    /// <summary>Length in Unicode code points (a surrogate pair counts once).</summary>
    public static int CodePoints(string value)
    {
        var count = 0;
        foreach (var _ in value.EnumerateRunes()) count++;
        return count;
    }

    /// <summary>Unicode general category Cc.</summary>
    public static bool HasControlCharacter(string value)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c)) return true;
        }
        return false;
    }

    /// <summary>Field errors in arrival order, at most a few per field.</summary>
    private sealed class Errors(IReadOnlyDictionary<string, string[]>? initial)
    {
        private readonly Dictionary<string, List<string>> _errors =
            initial?.ToDictionary(kv => kv.Key, kv => kv.Value.ToList()) ?? [];

        public bool Any => _errors.Count > 0;
        public bool Has(string field) => _errors.ContainsKey(field);

        public void Add(string field, string message)
        {
            if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
            if (list.Count < 10) list.Add(message);
        }

        public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }
}
