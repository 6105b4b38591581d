namespace Credentials.Api.Auth;

/// <summary>
/// Endpoints that never look at credentials: authentication ignores the Authorization header for
/// them, so a flood carrying made-up tokens costs no token check. Liveness and readiness are also
/// free of rate limits (probes are never refused); public documents that ask a grain (Open Badges
/// profiles) are not, so each call draws on its client address's bucket (B6).
/// </summary>
public static class CredentialFree
{
    /// <summary>Credentials ignored and no rate limit: for probes that ask no grain per call.</summary>
    public static TBuilder WithoutCredentials<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.IgnoringCredentials().DisableRateLimiting();

    /// <summary>Credentials ignored; every call counts against its client address's bucket.</summary>
    public static TBuilder IgnoringCredentials<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AllowAnonymous().WithMetadata(Marker.Instance);

    public static bool IsCredentialFree(this HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<Marker>() is not null;

    /// <summary>The same question asked of an endpoint's metadata (the OpenAPI document asks it).</summary>
    public static bool IsCredentialFree(IEnumerable<object> metadata) => metadata.OfType<Marker>().Any();

    private sealed class Marker
    {
        public static readonly Marker Instance = new();
    }
}
