using System.Text.Json;
using Credentials.Grains;
using Credentials.Grains.Issuers;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Credentials.Api.Http;

/// <summary>
/// Reads an issuer write from JSON, urlencoded or multipart bodies into one <see cref="IssuerInput"/>.
/// Only parsing happens here (types and shapes); the org grain applies the contract's rules.
/// </summary>
public static class IssuerRequestParser
{
    private const string TagsField = "allowed_template_tags";
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    /// <summary>
    /// Every value an issuer form may need (its fields and the most tags) with room to spare;
    /// each costs the form reader a few kilobytes, so the default 1024 is far more than needed.
    /// </summary>
    public const int MaxFormValues = IssuerRules.TagsMax + 28;

    public static async Task<(IssuerInput? Input, IResult? Error)> ParseAsync(HttpRequest request, long maxBytes)
    {
        if (LimitBody(request, maxBytes) is { } tooLarge) return (null, tooLarge);

        if (request.HasJsonContentType()) return await ParseJsonAsync(request);
        if (request.HasFormContentType) return await ParseFormAsync(request, maxBytes);
        return (null, Problems.UnsupportedMediaType(
            "Send application/json, application/x-www-form-urlencoded or multipart/form-data."));
    }

    /// <summary>
    /// A 413 when the declared length is over <paramref name="maxBytes"/>; else caps what the server
    /// will read of a body of unknown length (chunked) at the same.
    /// </summary>
    public static IResult? LimitBody(HttpRequest request, long maxBytes)
    {
        if (request.ContentLength > maxBytes) return Problems.TooLarge($"The body may be at most {maxBytes} bytes.");
        var feature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = maxBytes;
        return null;
    }

    private static async Task<(IssuerInput?, IResult?)> ParseJsonAsync(HttpRequest request)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, DocumentOptions, request.HttpContext.RequestAborted);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest($"JSON parse error: {ex.Message}"));
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return (null, Problems.BadRequest("The body must be a JSON object."));

            var errors = new Dictionary<string, string[]>();
            try
            {
                var input = new IssuerInput(
                    String(root, "name", errors),
                    String(root, "email", errors),
                    String(root, "url", errors),
                    String(root, "iconImage", errors),
                    Tags(root, errors),
                    Signatories(root, errors),
                    String(root, "entityId", errors),
                    errors.Count > 0 ? errors : null);
                return (input, null);
            }
            catch (InvalidOperationException)
            {
                // A property name with an unpaired surrogate escape: looking any field up reads it.
                return (null, Problems.BadRequest("The body contains a property name that is not valid Unicode text."));
            }
        }
    }

    private static Field<string> String(JsonElement root, string name, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty(name, out var value)) return Field<string>.Unset;
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                if (TryText(value, out var text)) return Field<string>.Of(text);
                errors[name] = [NotUnicode];
                return Field<string>.Unset;
            case JsonValueKind.Null: return Field<string>.Of(null);
            default:
                errors[name] = ["Not a valid string."];
                return Field<string>.Unset;
        }
    }

    private static Field<IReadOnlyList<string>> Tags(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty(TagsField, out var value)) return Field<IReadOnlyList<string>>.Unset;
        if (value.ValueKind == JsonValueKind.Null) return Field<IReadOnlyList<string>>.Of(null);
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors[TagsField] = ["Expected a list of strings or null."];
            return Field<IReadOnlyList<string>>.Unset;
        }
        // Past the contract's maximum the list is refused as the grain would, without copying it there.
        if (value.GetArrayLength() > IssuerRules.TagsMax)
        {
            errors[TagsField] = [TooManyTags];
            return Field<IReadOnlyList<string>>.Unset;
        }
        var tags = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                errors[TagsField] = ["Expected a list of strings or null."];
                return Field<IReadOnlyList<string>>.Unset;
            }
            if (!TryText(item, out var tag))
            {
                errors[TagsField] = [NotUnicode];
                return Field<IReadOnlyList<string>>.Unset;
            }
            tags.Add(tag);
        }
        return Field<IReadOnlyList<string>>.Of(tags);
    }

    private static Field<IReadOnlyDictionary<string, string>> Signatories(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty("signatories", out var value)) return Field<IReadOnlyDictionary<string, string>>.Unset;
        return SignatoriesFrom(value, errors);
    }

    private static Field<IReadOnlyDictionary<string, string>> SignatoriesFrom(JsonElement value, Dictionary<string, string[]> errors)
    {
        if (value.ValueKind == JsonValueKind.Null) return Field<IReadOnlyDictionary<string, string>>.Of(null);
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors["signatories"] = ["Expected an object of string to string."];
            return Field<IReadOnlyDictionary<string, string>>.Unset;
        }
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            // Duplicate keys count once, as the grain would count them.
            if (map.Count == IssuerRules.SignatoriesMax && !map.ContainsKey(TryName(property, out var name) ? name : ""))
            {
                errors["signatories"] = [$"Ensure this field has no more than {IssuerRules.SignatoriesMax} entries."];
                return Field<IReadOnlyDictionary<string, string>>.Unset;
            }
            if (property.Value.ValueKind != JsonValueKind.String)
            {
                errors["signatories"] = ["Expected an object of string to string."];
                return Field<IReadOnlyDictionary<string, string>>.Unset;
            }
            if (!TryName(property, out var key) || !TryText(property.Value, out var text))
            {
                errors["signatories"] = [NotUnicode];
                return Field<IReadOnlyDictionary<string, string>>.Unset;
            }
            map[key] = text;
        }
        return Field<IReadOnlyDictionary<string, string>>.Of(map);
    }

    private static readonly string TooManyTags = $"Ensure this field has no more than {IssuerRules.TagsMax} elements.";

    private const string NotUnicode = "Not valid Unicode text (an unpaired surrogate escape).";

    /// <summary>
    /// JSON may escape an unpaired surrogate ("\ud800"): it parses, but is not text, and reading it
    /// throws. That is the client's error (400), not ours (500).
    /// </summary>
    public static bool TryText(JsonElement value, out string text)
    {
        try
        {
            text = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            text = "";
            return false;
        }
    }

    private static bool TryName(JsonProperty property, out string name)
    {
        try
        {
            name = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            name = "";
            return false;
        }
    }

    private static async Task<(IssuerInput?, IResult?)> ParseFormAsync(HttpRequest request, long maxBytes)
    {
        IFormCollection form;
        try
        {
            // The body is buffered once, in memory (it is at most maxBytes): a file part is then a
            // reference into it. Unbuffered, the reader gives each file part its own 64 KiB buffer.
            request.HttpContext.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions
            {
                BufferBody = true,
                MemoryBufferThreshold = (int)Math.Min(maxBytes, 1024 * 1024),
                ValueCountLimit = MaxFormValues,
            }));
            form = await request.ReadFormAsync(request.HttpContext.RequestAborted);
        }
        catch (Exception ex) when (ex is InvalidDataException || (ex is IOException and not BadHttpRequestException))
        {
            // A missing boundary, a truncated part, a bad part header: the client's error, not a 500.
            // BadHttpRequestException (an IOException) carries its own status, such as 413; let it through.
            return (null, Problems.BadRequest(
                $"The form body is malformed or past the form limits (at most {MaxFormValues} fields) and could not be read."));
        }
        var errors = new Dictionary<string, string[]>();

        // A repeated single-valued field keeps its last value, as Django's QueryDict does (not "a,b").
        Field<string> Text(string name) => form.TryGetValue(name, out var v) && v.Count > 0 ? Field<string>.Of(v[^1]) : Field<string>.Unset;

        var tags = Field<IReadOnlyList<string>>.Unset;
        if (form.TryGetValue(TagsField, out var tagValues) || form.TryGetValue(TagsField + "[]", out tagValues))
        {
            // A single empty value is how an HTML form says "no tags".
            string[] list = tagValues is [""] ? [] : tagValues.Select(t => t ?? "").ToArray();
            tags = Field<IReadOnlyList<string>>.Of(list);
        }

        var signatories = Field<IReadOnlyDictionary<string, string>>.Unset;
        if (form.TryGetValue("signatories", out var signatoriesText))
        {
            var text = signatoriesText.ToString();
            if (string.IsNullOrWhiteSpace(text))
            {
                signatories = Field<IReadOnlyDictionary<string, string>>.Of(null);
            }
            else
            {
                try
                {
                    using var document = JsonDocument.Parse(text, DocumentOptions);
                    signatories = SignatoriesFrom(document.RootElement, errors);
                }
                catch (JsonException)
                {
                    errors["signatories"] = ["Value must be valid JSON."];
                }
            }
        }

        var input = new IssuerInput(
            Text("name"), Text("email"), Text("url"), Text("iconImage"), tags, signatories, Text("entityId"),
            errors.Count > 0 ? errors : null);
        return (input, null);
    }
}
