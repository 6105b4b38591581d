using System.Buffers;
using Credentials.Grains;

namespace Credentials.Api.Http;

/// <summary>The contract's rules for the org and user keys in paths; a bad key is a 400.</summary>
public sealed class RouteKeysFilter : IEndpointFilter
{
    private static readonly SearchValues<char> UserIdChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.@+_-");

    /// <summary>1 to 150 of letters, digits and . @ + _ - (a span check: it runs on every request).</summary>
    public static bool IsValidUserId(string? id) => id is { Length: > 0 and <= 150 } && !id.AsSpan().ContainsAnyExcept(UserIdChars);

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var values = context.HttpContext.Request.RouteValues;
        if (values.TryGetValue("org", out var org) && !OrgKeys.IsValid(org as string))
        {
            return ValueTask.FromResult<object?>(Problems.Invalid("org", OrgKeys.Message));
        }
        if (values.TryGetValue("user_id", out var user) && !IsValidUserId(user as string))
        {
            return ValueTask.FromResult<object?>(Problems.Invalid("user_id", "A user id is 1 to 150 of letters, digits and . @ + _ -."));
        }
        return next(context);
    }
}
