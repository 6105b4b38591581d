using System.Security.Claims;
using Credentials.Api.Auth;
using Credentials.Grains;

namespace Credentials.Api.Http;

/// <summary>
/// After authentication, hands the caller and the request id to every grain call this request
/// makes (Orleans' RequestContext, <see cref="RequestActor"/>): the org grain records them in the
/// events of the changes it makes (C4).
/// </summary>
public sealed class RequestActorMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        // Only changes are recorded as events: reads carry nothing to their grain calls.
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)) return next(context);
        return WithActor(context);
    }

    // Async so that the RequestContext set here ends with the request.
    private async Task WithActor(HttpContext context)
    {
        if (ActorOf(context.User) is { } actor) RequestActor.Set(actor, context.TraceIdentifier);
        await next(context);
    }

    /// <summary>The super-admin, an org token by its name, or a user by its id; null when anonymous.</summary>
    public static EventActor? ActorOf(ClaimsPrincipal user) => user.FindFirstValue(CredentialClaims.Kind) switch
    {
        CredentialClaims.SuperAdmin => EventActor.Admin,
        CredentialClaims.OrgToken => new EventActor(EventActor.OrgToken, user.FindFirstValue(CredentialClaims.TokenName)),
        CredentialClaims.User => new EventActor(EventActor.User, user.FindFirstValue(CredentialClaims.Subject)),
        _ => null,
    };
}
