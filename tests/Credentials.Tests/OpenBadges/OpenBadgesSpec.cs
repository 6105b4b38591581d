using System.Text.Json.Nodes;

namespace Credentials.Tests.OpenBadges;

/// <summary>
/// The required properties and value types of the two profile documents, written from the
/// specifications (Open Badges 3.0 §B Profile and Image; Open Badges 2.0 Profile/Issuer), plus what
/// makes a document well-formed JSON-LD with its context: no keyword other than <c>@context</c>, no
/// null values (JSON-LD drops them; a verifier should not see them), absolute IRIs where one is due.
/// </summary>
public static class OpenBadgesSpec
{
    public static readonly string[] V3Contexts =
        ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"];

    public const string V2Context = "https://w3id.org/openbadges/v2";

    /// <summary>OB 3.0 Profile: <c>id</c> URI [1], <c>type</c> array containing "Profile" [1..*], <c>name</c>, <c>url</c> URI, <c>email</c> string, <c>image</c> Image.</summary>
    public static void AssertProfileV3(JsonObject document)
    {
        AssertJsonLd(document);
        Assert.Equal(V3Contexts, document["@context"]!.AsArray().Select(c => c!.GetValue<string>()));
        AssertAbsoluteUri(document, "id");
        var type = Assert.IsType<JsonArray>(document["type"]);
        Assert.Contains("Profile", type.Select(t => t!.GetValue<string>()));
        AssertString(document, "name");
        if (document.ContainsKey("url")) AssertAbsoluteUri(document, "url");
        if (document.ContainsKey("email")) AssertString(document, "email");
        if (document["image"] is { } image)
        {
            // Image: id URI [1], type "Image" [1], caption string [0..1].
            var imageObject = Assert.IsType<JsonObject>(image);
            AssertAbsoluteUri(imageObject, "id");
            Assert.Equal("Image", imageObject["type"]!.GetValue<string>());
            Assert.All(imageObject.Select(p => p.Key), key => Assert.Contains(key, new[] { "id", "type", "caption" }));
        }
    }

    /// <summary>OB 2.0 Issuer: <c>type</c> "Issuer", <c>id</c> IRI, <c>name</c> Text, <c>url</c> IRI, <c>email</c> Text, <c>image</c> IRI.</summary>
    public static void AssertIssuerV2(JsonObject document)
    {
        AssertJsonLd(document);
        Assert.Equal(V2Context, document["@context"]!.GetValue<string>());
        Assert.Equal("Issuer", document["type"]!.GetValue<string>());
        AssertAbsoluteUri(document, "id");
        AssertString(document, "name");
        if (document.ContainsKey("url")) AssertAbsoluteUri(document, "url");
        if (document.ContainsKey("email")) AssertString(document, "email");
        if (document.ContainsKey("image")) AssertAbsoluteUri(document, "image");
    }

    private static void AssertJsonLd(JsonObject document)
    {
        Assert.All(document, property =>
        {
            Assert.NotNull(property.Value);
            Assert.True(!property.Key.StartsWith('@') || property.Key == "@context", $"unexpected keyword {property.Key}");
        });
    }

    private static void AssertString(JsonObject owner, string property)
    {
        var value = owner[property];
        Assert.True(value is JsonValue && value.GetValueKind() == System.Text.Json.JsonValueKind.String, $"{property} is not a string");
        Assert.False(string.IsNullOrWhiteSpace(value.GetValue<string>()), $"{property} is blank");
    }

    private static void AssertAbsoluteUri(JsonObject owner, string property)
    {
        AssertString(owner, property);
        var value = owner[property]!.GetValue<string>();
        Assert.True(Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https", $"{property} is not an absolute http(s) URI: {value}");
    }
}
