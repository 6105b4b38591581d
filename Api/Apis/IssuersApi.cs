using Credentials.Api.Auth;
using Credentials.Api.Contracts;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Credentials.Grains;
using Credentials.Grains.Issuers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Apis;

/// <summary>A3, A4, B4: an org's issuers.</summary>
public static class IssuersApi
{
    private static readonly string[] BodyTypes = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"];

    public static RouteGroupBuilder MapIssuersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/credentials/orgs/{org}/users/{user_id}/issuers")
            .WithTags("Issuers")
            .RequireAuthorization(AccessPolicies.OrgMember)
            .AddEndpointFilter<RouteKeysFilter>()
            .ProducesProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);

        group.MapGet("/", ListIssuers)
            .WithName("ListIssuers")
            .WithSummary("List the org's issuers, oldest first, with optional name search (q) and paging.");

        group.MapPost("/", CreateIssuer)
            .WithName("CreateIssuer")
            .WithSummary("Create an issuer (200 with the Created envelope, as the published API does).")
            .Accepts<IssuerWriteRequest>(BodyTypes[0], BodyTypes[1..])
            .ProducesProblems(StatusCodes.Status409Conflict);

        group.MapGet("/{entityId}/", GetIssuer)
            .WithName("GetIssuer")
            .WithSummary("Read one issuer, as a one-element array.");

        group.MapPut("/{entityId}/", ReplaceIssuer)
            .WithName("ReplaceIssuer")
            .WithSummary("Replace an issuer's writable fields (admins only).")
            .Accepts<IssuerWriteRequest>(BodyTypes[0], BodyTypes[1..])
            .ProducesProblems(StatusCodes.Status409Conflict)
            .RequireAuthorization(AccessPolicies.OrgAdmin);

        group.MapPatch("/{entityId}/", PatchIssuer)
            .WithName("PatchIssuer")
            .WithSummary("Change only the fields sent (admins only).")
            .Accepts<IssuerWriteRequest>(BodyTypes[0], BodyTypes[1..])
            .ProducesProblems(StatusCodes.Status409Conflict)
            .RequireAuthorization(AccessPolicies.OrgAdmin);

        group.MapDelete("/{entityId}/", DeleteIssuer)
            .WithName("DeleteIssuer")
            .WithSummary("Delete an issuer (admins only).")
            .RequireAuthorization(AccessPolicies.OrgAdmin);

        return group;
    }

    /// <summary>
    /// The page is fetched in grain replies of bounded size (a page of 1000 large issuers is many
    /// megabytes) and written as each arrives; the first reply decides the status and the count.
    /// A page of one reply is kept as JSON (<see cref="IssuerPageCache"/>) and written again while
    /// the grain says the org's issuers are unchanged.
    /// </summary>
    public static async Task<Results<StreamedJson<Envelope<IssuerList>>, ProblemHttpResult, ValidationProblem>> ListIssuers(
        string org,
        [FromRoute(Name = "user_id")] string userId,
        [FromQuery] string? q,
        [FromQuery, IntegerQuery(1, Paging.LimitText)] string? limit,
        [FromQuery, IntegerQuery(0, Paging.OffsetText)] string? offset,
        HttpRequest request,
        IGrainFactory grains,
        IssuerPageCache pages,
        LocalIssuerVersions localVersions,
        IOptions<ApiOptions> options)
    {
        if (!Paging.TryParse(limit, offset, Paging.DefaultLimit, out var paging, out var problem)) return problem;

        var start = (int)Math.Min(paging.Offset, int.MaxValue);
        var key = new IssuerPageCache.Key(org, string.IsNullOrEmpty(q) ? null : q, start, paging.Limit);
        var cached = pages.Get(key);
        IssuerPage first;
        if (cached is not null && localVersions.IsCurrent(org, cached.Version))
        {
            // The org's grain is active in this process and shows the page's version (ADR 0021).
            first = IssuerPage.UnchangedAt(cached.Version);
        }
        else
        {
            var grain = grains.GetOrgGrain(org);
            var outcome = cached is null
                ? await grain.ListIssuers(q, start, paging.Limit)
                : await grain.ListIssuersUnlessUnchanged(q, start, paging.Limit, cached.Version);
            if (!outcome.Succeeded) return OutcomeResults.Problem(outcome, org);
            first = outcome.Value!;
        }
        var count = first.Unchanged ? cached!.Count : first.Count;
        var (next, previous) = paging.Neighbours(Links.BaseUrl(request, options.Value), request.PathBase.Add(request.Path).Value!, q, count);

        // The shape of Envelope<IssuerList>, property by property.
        return new StreamedJson<Envelope<IssuerList>>(async writer =>
        {
            var json = writer.Json;
            json.WriteStartObject();
            json.WritePropertyName("status");
            writer.Write(Status.Ok);
            json.WriteStartObject("result");
            json.WriteString("next", next);
            json.WriteString("previous", previous);
            json.WriteNumber("count", count);
            json.WritePropertyName("data");
            if (first.Unchanged) json.WriteRawValue(cached!.Data, skipInputValidation: true);
            else if (first.ContinueAfter is null) json.WriteRawValue(pages.Add(key, first, org, writer.Options), skipInputValidation: true);
            else await WriteRepliesAsync(writer, grains.GetOrgGrain(org), org, q, first, paging.Limit);
            json.WriteNumber("num_pages", Paging.PageCount(count, paging.Limit));
            json.WriteNumber("page_number", paging.PageNumber);
            json.WriteNumber("max_page_size", Paging.MaxLimit);
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    /// <summary>A page of several grain replies: each is sent before the next is asked for.</summary>
    private static async Task WriteRepliesAsync(StreamedJsonWriter writer, IOrgGrain grain, string org, string? q, IssuerPage first, int limit)
    {
        writer.Json.WriteStartArray();
        var page = first;
        var remaining = limit;
        while (true)
        {
            foreach (var issuer in page.Items) writer.Write(IssuerView.From(org, issuer));
            remaining -= page.Items.Count;
            if (page.ContinueAfter is not { } after || remaining <= 0) break;
            // Another reply follows: send this one first (a one-reply page goes out whole, with its length).
            await writer.FlushAsync();
            var more = await grain.ListIssuers(q, 0, remaining, after);
            if (!more.Succeeded) break;
            page = more.Value!;
        }
        writer.Json.WriteEndArray();
    }

    public static async Task<Results<Ok<Envelope<IssuerView>>, ProblemHttpResult, ValidationProblem>> CreateIssuer(
        string org, [FromRoute(Name = "user_id")] string userId, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        var (input, error) = await IssuerRequestParser.ParseAsync(request, options.Value.MaxBodyBytes);
        if (error is not null) return AsError(error);

        var outcome = await grains.GetOrgGrain(org).CreateIssuer(input!);
        return OutcomeResults.MapWrite(outcome, org, issuer => TypedResults.Ok(new Envelope<IssuerView>(Status.Created, IssuerView.From(org, issuer))));
    }

    public static async Task<Results<Ok<IssuerView[]>, ProblemHttpResult>> GetIssuer(
        string org, [FromRoute(Name = "user_id")] string userId, string entityId, IGrainFactory grains)
    {
        var outcome = await grains.GetOrgGrain(org).GetIssuer(entityId);
        return OutcomeResults.Map(outcome, org, issuer => TypedResults.Ok(new[] { IssuerView.From(org, issuer) }), () => IssuerNotFound(entityId));
    }

    public static Task<Results<Ok<IssuerView[]>, ProblemHttpResult, ValidationProblem>> ReplaceIssuer(
        string org, [FromRoute(Name = "user_id")] string userId, string entityId, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> options) =>
        Update(org, entityId, request, grains, options.Value, (grain, input) => grain.ReplaceIssuer(entityId, input));

    public static Task<Results<Ok<IssuerView[]>, ProblemHttpResult, ValidationProblem>> PatchIssuer(
        string org, [FromRoute(Name = "user_id")] string userId, string entityId, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> options) =>
        Update(org, entityId, request, grains, options.Value, (grain, input) => grain.PatchIssuer(entityId, input));

    private static async Task<Results<Ok<IssuerView[]>, ProblemHttpResult, ValidationProblem>> Update(
        string org, string entityId, HttpRequest request, IGrainFactory grains, ApiOptions options,
        Func<IOrgGrain, IssuerInput, Task<Outcome<Issuer>>> apply)
    {
        var (input, error) = await IssuerRequestParser.ParseAsync(request, options.MaxBodyBytes);
        if (error is not null) return AsError(error);

        var outcome = await apply(grains.GetOrgGrain(org), WithoutEntityId(input!));
        return OutcomeResults.MapWrite(outcome, org, issuer => TypedResults.Ok(new[] { IssuerView.From(org, issuer) }), () => IssuerNotFound(entityId));
    }

    public static async Task<Results<Ok<StatusOnly>, ProblemHttpResult>> DeleteIssuer(
        string org, [FromRoute(Name = "user_id")] string userId, string entityId, IGrainFactory grains)
    {
        var outcome = await grains.GetOrgGrain(org).DeleteIssuer(entityId);
        return OutcomeResults.Map(outcome, org, _ => TypedResults.Ok(new StatusOnly(Status.Deleted)), () => IssuerNotFound(entityId));
    }

    /// <summary>
    /// entityId is the issuer's identity (B4): PUT and PATCH ignore one in the body, even one of the
    /// wrong JSON type, so it must not surface as a parse error either.
    /// </summary>
    private static IssuerInput WithoutEntityId(IssuerInput input)
    {
        var errors = input.ParseErrors;
        if (errors is not null && errors.ContainsKey("entityId"))
        {
            var rest = errors.Where(kv => kv.Key != "entityId").ToDictionary(kv => kv.Key, kv => kv.Value);
            errors = rest.Count > 0 ? rest : null;
        }
        return input with { EntityId = Field<string>.Unset, ParseErrors = errors };
    }

    internal static ProblemHttpResult IssuerNotFound(string entityId) => Problems.NotFound($"No issuer with entityId '{entityId}'.");

    /// <summary>The parser only ever answers with a problem result.</summary>
    private static ProblemHttpResult AsError(IResult error) => (ProblemHttpResult)error;
}
