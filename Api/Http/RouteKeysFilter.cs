using System.Text.RegularExpressions;
using Credentials.Grains;

namespace Credentials.Api.Http;

/// <summary>The contract's rules for the org and user keys in paths; a bad key is a 400.</summary>
public sealed partial class RouteKeysFilter : IEndpointFilter
{
    // \z, not $: in .NET "$" also matches before a final newline, which would let "id\n" through.
    [GeneratedRegex("^[A-Za-z0-9.@+_-]{1,150}\\z")]
    public static partial Regex UserIdPattern();

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var values = context.HttpContext.Request.RouteValues;
        if (values.TryGetValue("org", out var org) && !OrgKeys.IsValid(org as string))
        {
            return ValueTask.FromResult<object?>(Problems.Invalid("org", OrgKeys.Message));
        }
        if (values.TryGetValue("user_id", out var user) && !UserIdPattern().IsMatch(user as string ?? ""))
        {
            return ValueTask.FromResult<object?>(Problems.Invalid("user_id", "A user id is 1 to 150 of letters, digits and . @ + _ -."));
        }
        return next(context);
    }
}
