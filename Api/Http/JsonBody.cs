using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Credentials.Api.Http;

/// <summary>Reads a small JSON request body (tokens, webhooks): its problem when it is not JSON, too large or not the expected shape.</summary>
public static class JsonBody
{
    /// <summary>The body, or the problem to answer; <paramref name="shape"/> says what a valid body looks like.</summary>
    public static async Task<(T? Body, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, long maxBytes, string shape)
    {
        if (!request.HasJsonContentType()) return (default, Problems.UnsupportedMediaType("Send application/json."));
        if (IssuerRequestParser.LimitBody(request, maxBytes) is ProblemHttpResult tooLarge) return (default, tooLarge);
        try
        {
            return (await request.ReadFromJsonAsync(type, request.HttpContext.RequestAborted), null);
        }
        catch (JsonException)
        {
            return (default, Problems.BadRequest($"The body must be {shape}."));
        }
        catch (InvalidOperationException)
        {
            // The reader refuses a charset it cannot decode (utf-7, made-up names) this way.
            return (default, Problems.UnsupportedMediaType("Send application/json in UTF-8."));
        }
    }
}
