using Credentials.Api.Contracts;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Credentials.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Apis;

/// <summary>B2: an org's API tokens. The secret is shown once, at creation.</summary>
public static class TokensApi
{
    public static RouteGroupBuilder MapTokensApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapOrgAdminArea("tokens", "Platform tokens");

        group.MapPost("/", CreateToken)
            .WithName("CreateToken")
            .WithSummary("Create an org API token; the answer is the only time the secret is shown.")
            .Accepts<CreateTokenRequest>("application/json")
            .RefusesIdempotencyKey();

        group.MapGet("/", ListTokens)
            .WithName("ListTokens")
            .WithSummary("List the org's live tokens: names and dates, never secrets.");

        group.MapDelete("/{name}/", RevokeToken)
            .WithName("RevokeToken")
            .WithSummary("Revoke a token; every API node refuses it within 5 seconds.");

        return group;
    }

    public static async Task<Results<Created<TokenCreatedView>, ProblemHttpResult, ValidationProblem>> CreateToken(
        string org, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, ApiJsonContext.Default.CreateTokenRequest, options.Value.MaxBodyBytes,
            "a JSON object with a \"name\" string");
        if (problem is not null) return problem;
        var outcome = await grains.GetOrgGrain(org).CreateToken(body?.Name ?? "");
        return OutcomeResults.MapWrite(outcome, org, token => TypedResults.Created($"/api/platforms/{org}/tokens/{token.Name}/",
            new TokenCreatedView(token.Name, token.Token, PlatformView.Timestamp(token.Created))));
    }

    public static async Task<Results<Ok<TokenView[]>, ProblemHttpResult>> ListTokens(string org, IGrainFactory grains)
    {
        var outcome = await grains.GetOrgGrain(org).ListTokens();
        return OutcomeResults.Map(outcome, org,
            tokens => TypedResults.Ok(tokens.Select(t => new TokenView(t.Name, PlatformView.Timestamp(t.Created))).ToArray()));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeToken(string org, string name, IGrainFactory grains)
    {
        var outcome = await grains.GetOrgGrain(org).RevokeToken(name);
        return OutcomeResults.Map(outcome, org, _ => TypedResults.NoContent(), () => Problems.NotFound($"No live token named '{name}'."));
    }
}
