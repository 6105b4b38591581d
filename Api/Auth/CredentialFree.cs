namespace Credentials.Api.Auth;

/// <summary>
/// Endpoints that never look at credentials (liveness, readiness): authentication ignores the
/// Authorization header for them and no rate limit applies, so a flood carrying made-up tokens
/// costs them nothing and probes are never refused.
/// </summary>
public static class CredentialFree
{
    public static TBuilder WithoutCredentials<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AllowAnonymous().DisableRateLimiting().WithMetadata(Marker.Instance);

    public static bool IsCredentialFree(this HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<Marker>() is not null;

    /// <summary>The same question asked of an endpoint's metadata (the OpenAPI document asks it).</summary>
    public static bool IsCredentialFree(IEnumerable<object> metadata) => metadata.OfType<Marker>().Any();

    private sealed class Marker
    {
        public static readonly Marker Instance = new();
    }
}
