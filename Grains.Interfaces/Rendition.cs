namespace Credentials.Grains;

/// <summary>
/// A PNG rendition of an org's image (contract C2), or the remembered fact that its source could
/// not be rendered within the bounds. The bytes live in the blob store under <see cref="Sha256"/>,
/// a key derived from the source's hash and the size, so any node finds them without asking.
/// </summary>
[GenerateSerializer, Immutable, Alias("credentials.rendition.v1")]
public sealed record RenditionRecord(
    [property: Id(0)] string SourceSha256,
    [property: Id(1)] int Size,
    /// <summary>The blob key, or null when the source could not be rendered (a remembered failure).</summary>
    [property: Id(2)] string? Sha256,
    [property: Id(3)] long Length,
    [property: Id(4)] int Width,
    [property: Id(5)] int Height,
    [property: Id(6)] DateTimeOffset Created)
{
    public bool Failed => Sha256 is null;
}

/// <summary>What the org knows of one rendition before it is made.</summary>
[GenerateSerializer, Alias("credentials.rendition-state.v1")]
public enum RenditionState
{
    /// <summary>Not made yet: the caller renders the source and records the result.</summary>
    ToRender = 0,
    Stored = 1,
    /// <summary>The source could not be rendered within the bounds; not tried again.</summary>
    Failed = 2,
}

[GenerateSerializer, Immutable, Alias("credentials.rendition-plan.v1")]
public sealed record RenditionPlan(
    [property: Id(0)] RenditionState State,
    [property: Id(1)] RenditionRecord? Rendition = null);
