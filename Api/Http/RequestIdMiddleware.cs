using System.Buffers;
using System.Collections;

namespace Credentials.Api.Http;

/// <summary>
/// Accepts a client's X-Request-Id (if it is short and plain) or makes one, echoes it, and opens
/// the request's one log scope (<see cref="RequestLogState"/>), which <see cref="RequestLogScope"/>
/// later completes with the org.
/// </summary>
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
        if (!logger.IsEnabled(LogLevel.Critical)) return next(context);
        // ASP.NET Core's own request scope read the connection's identifier before this ran.
        var state = new RequestLogState(id);
        context.Features.Set(state);
        return InScope(context, state);
    }

    private async Task InScope(HttpContext context, RequestLogState state)
    {
        using (logger.BeginScope(state))
        {
            await next(context);
        }
    }
}

/// <summary>
/// The request's log scope: its request id, and its org once routing has found one. One scope per
/// request (a scope is an async-local change that every later await of the request carries).
/// </summary>
public sealed class RequestLogState(string requestId) : IReadOnlyList<KeyValuePair<string, object>>
{
    public string RequestId { get; } = requestId;

    /// <summary>Set after routing by <see cref="RequestLogScope"/>; lines logged before it have no org.</summary>
    public string? Org { get; set; }

    public int Count => Org is null ? 1 : 2;

    public KeyValuePair<string, object> this[int index] => index switch
    {
        0 => new(RequestIdMiddleware.Header, RequestId),
        1 when Org is { } org => new("Org", org),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => Org is null ? $"{RequestIdMiddleware.Header}:{RequestId}" : $"{RequestIdMiddleware.Header}:{RequestId} Org:{Org}";
}
