namespace Credentials.Grains;

/// <summary>A tenant ("platform") of the service.</summary>
[GenerateSerializer, Immutable, Alias("credentials.platform.v1")]
public sealed record Platform(
    [property: Id(0)] string Key,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset Created);
