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

    /// <summary>
    /// The first half of every id this process makes: random per process, so ids of different
    /// nodes and restarts do not meet. The second half counts. (Guid.NewGuid asks the kernel for
    /// random bytes, a system call per request: ~3 % of the issuer page's CPU.)
    /// </summary>
    private static readonly ulong ProcessPrefix = BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
    private static long _counter;

    public Task InvokeAsync(HttpContext context)
    {
        var supplied = context.Request.Headers[Header].ToString();
        var id = supplied.Length is > 0 and <= 128 && !supplied.AsSpan().ContainsAnyExcept(Allowed)
            ? supplied
            : NewId();
        context.TraceIdentifier = id;
        context.Response.Headers[Header] = id;
        if (!logger.IsEnabled(LogLevel.Critical)) return next(context);
        // ASP.NET Core's own request scope read the connection's identifier before this ran.
        var state = new RequestLogState(id);
        context.Features.Set(state);
        return InScope(context, state);
    }

    /// <summary>32 lowercase hex digits, as a GUID's "N" form: the process prefix, then a count.</summary>
    public static string NewId() =>
        string.Create(32, (ProcessPrefix, (ulong)Interlocked.Increment(ref _counter)), static (chars, parts) =>
        {
            parts.Item1.TryFormat(chars, out _, "x16");
            parts.Item2.TryFormat(chars[16..], out _, "x16");
        });

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
