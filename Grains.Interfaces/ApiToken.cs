namespace Credentials.Grains;

/// <summary>An org API token as listed: its name and creation time, never its secret.</summary>
[GenerateSerializer, Immutable, Alias("credentials.api-token.v1")]
public sealed record ApiTokenInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] DateTimeOffset Created);

/// <summary>A token just created: the only time its secret leaves the grain.</summary>
[GenerateSerializer, Immutable, Alias("credentials.issued-token.v1")]
public sealed record IssuedToken(
    [property: Id(0)] string Name,
    [property: Id(1)] string Token,
    [property: Id(2)] DateTimeOffset Created)
{
    // Records print every property; a secret must not reach a log line that way.
    public override string ToString() => $"IssuedToken {{ Name = {Name}, Token = ***, Created = {Created:O} }}";
}
