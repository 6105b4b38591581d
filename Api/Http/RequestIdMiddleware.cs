using System.Buffers;

namespace Credentials.Api.Http;

/// <summary>Accepts a client's X-Request-Id (if it is short and plain) or makes one, and echoes it.</summary>
public sealed class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger)
{
    public const string Header = "X-Request-Id";
    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/+=@");

    public Task InvokeAsync(HttpContext context)
    {
        var supplied = context.Request.Headers[Header].ToString();
        var id = supplied.Length is > 0 and <= 128 && !supplied.AsSpan().ContainsAnyExcept(Allowed)
            ? supplied
            : Guid.NewGuid().ToString("N");
        context.TraceIdentifier = id;
        context.Response.Headers[Header] = id;
        // ASP.NET Core's own request scope read the connection's identifier before this ran.
        return logger.IsEnabled(LogLevel.Critical) ? InScope(context, id) : next(context);
    }

    private async Task InScope(HttpContext context, string id)
    {
        using (logger.BeginScope(new KeyValuePair<string, object>[] { new(Header, id) }))
        {
            await next(context);
        }
    }
}
