namespace Credentials.Grains;

/// <summary>An issuer as the org grain keeps it. The org key is not stored: it is the grain's key.</summary>
[GenerateSerializer, Immutable, Alias("credentials.issuer.v1")]
public sealed record Issuer(
    [property: Id(0)] string EntityId,
    [property: Id(1)] string Name,
    [property: Id(2)] string? Email,
    [property: Id(3)] string? Url,
    [property: Id(4)] string? IconImage,
    [property: Id(5)] IReadOnlyList<string>? AllowedTemplateTags,
    [property: Id(6)] IReadOnlyDictionary<string, string> Signatories);

/// <summary>A field of a write request: whether the client sent it, and what it sent.</summary>
/// <remarks>PATCH changes only the fields that are set; PUT and POST treat unset fields as their defaults.</remarks>
[GenerateSerializer, Immutable, Alias("credentials.field.v1`1")]
public readonly record struct Field<T>([property: Id(0)] bool IsSet, [property: Id(1)] T? Value)
{
    public static Field<T> Unset => default;
    public static Field<T> Of(T? value) => new(true, value);
}

/// <summary>
/// An issuer write as the API parsed it from any of the three encodings. It is not validated yet:
/// the org grain owns the rules. <see cref="ParseErrors"/> carries what the parser already refused
/// (a field of the wrong JSON type, say) so the client gets every error in one answer.
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.issuer-input.v1")]
public sealed record IssuerInput(
    [property: Id(0)] Field<string> Name,
    [property: Id(1)] Field<string> Email,
    [property: Id(2)] Field<string> Url,
    [property: Id(3)] Field<string> IconImage,
    [property: Id(4)] Field<IReadOnlyList<string>> AllowedTemplateTags,
    [property: Id(5)] Field<IReadOnlyDictionary<string, string>> Signatories,
    [property: Id(6)] Field<string> EntityId,
    [property: Id(7)] IReadOnlyDictionary<string, string[]>? ParseErrors = null);

/// <summary>
/// One grain reply of an org's issuers: the total that matched and the start of the slice asked for.
/// A reply is bounded in bytes: when the slice did not fit, <see cref="ContinueAfter"/> says where
/// the next call goes on (the creation sequence number of the last item), else it is null.
/// <see cref="Version"/> is the org's issuers' version the reply was taken at (it changes with every
/// issuer write); <see cref="Unchanged"/> answers <see cref="IOrgGrain.ListIssuersUnlessUnchanged"/>
/// when the caller's version is still current: no items, no count, nothing else to read.
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.issuer-page.v1")]
public sealed record IssuerPage(
    [property: Id(0)] int Count,
    [property: Id(1)] IReadOnlyList<Issuer> Items,
    [property: Id(2)] long? ContinueAfter = null,
    [property: Id(3)] long Version = 0,
    [property: Id(4)] bool Unchanged = false)
{
    /// <summary>The answer for a caller whose page, taken at <paramref name="version"/>, is still current.</summary>
    public static IssuerPage UnchangedAt(long version) => new(0, [], null, version, Unchanged: true);
}
