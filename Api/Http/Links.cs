namespace Credentials.Api.Http;

/// <summary>Absolute URLs for links in responses.</summary>
public static class Links
{
    /// <summary><c>Api:PublicBaseUrl</c> when set, else the request's scheme and host.</summary>
    public static string BaseUrl(HttpRequest request, Extensions.ApiOptions options) =>
        options.PublicBaseUrl is { Length: > 0 } configured
            ? configured.TrimEnd('/')
            : $"{request.Scheme}://{request.Host.Value}";
}
