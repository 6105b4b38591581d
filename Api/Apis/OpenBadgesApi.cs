using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Credentials.Api.Auth;
using Credentials.Api.Contracts;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Credentials.Grains;
using Credentials.Grains.Issuers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Microsoft.Net.Http.Headers;

namespace Credentials.Api.Apis;

/// <summary>
/// C1: every issuer published as an Open Badges profile, for verifiers of its credentials. Public,
/// so credentials are ignored and each call draws on its client address's bucket (B6); the org is
/// looked up in this node's copy of the org directory before its grain is asked, so a made-up org
/// activates nothing. The document is read from the org grain's memory.
/// </summary>
public static class OpenBadgesApi
{
    public const string MediaType = "application/ld+json";
    public const string CacheControl = "public, max-age=300";

    public static IEndpointRouteBuilder MapOpenBadgesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/ob")
            .WithTags("Open Badges")
            .IgnoringCredentials()
            // 503: the grain may have to load the org from a database that does not answer.
            .ProducesProblems(StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);

        // Handlers named at the call: the request delegate generator binds them at compile time.
        group.MapMethods(DocumentPath("v3"), ReadMethods.GetAndHead, GetProfile)
            .Describe<OpenBadgesProfile>("v3", "GetOpenBadgesProfile", "an Open Badges 3.0 Profile", ProfileV3);
        group.MapMethods(DocumentPath("v2"), ReadMethods.GetAndHead, GetIssuerV2)
            .Describe<OpenBadgesIssuerV2>("v2", "GetOpenBadgesIssuerV2", "an Open Badges 2.0 Issuer", IssuerV2);
        return app;
    }

    private static string DocumentPath(string version) => $"/{version}/orgs/{{org}}/issuers/{{entityId}}/";

    private static void Describe<TDocument>(
        this RouteHandlerBuilder endpoint, string version, string name, string title, Func<string, Issuer, byte[]> write) =>
        endpoint
            .WithName(name)
            .WithSummary($"The issuer as {title} (JSON-LD); public, cacheable for 5 minutes.")
            .WithDescription("`id` is this document's own absolute URL (built on `Api:PublicBaseUrl` when set). `url`, `email` and "
                + "`image` (the issuer's iconImage) appear only when the issuer has them. `ETag` changes with the issuer; `If-None-Match` → 304.")
            .Produces<TDocument>(StatusCodes.Status200OK, MediaType)
            .Produces(StatusCodes.Status304NotModified)
            .AddOpenApiOperationTransformer((operation, _, _) => WithExample(operation, write(ExampleUrl(version), ExampleIssuer)));

    public static Task<Results<FileContentHttpResult, ProblemHttpResult>> GetProfile(
        string org, string entityId, HttpRequest request, IGrainFactory grains, OrgDirectoryCache orgs, IOptions<ApiOptions> options) =>
        PublishAsync(org, entityId, "v3", request, grains, orgs, options.Value, ProfileV3);

    public static Task<Results<FileContentHttpResult, ProblemHttpResult>> GetIssuerV2(
        string org, string entityId, HttpRequest request, IGrainFactory grains, OrgDirectoryCache orgs, IOptions<ApiOptions> options) =>
        PublishAsync(org, entityId, "v2", request, grains, orgs, options.Value, IssuerV2);

    // Each document as the bytes written for an issuer whose document lives at id.
    private static byte[] ProfileV3(string id, Issuer issuer) =>
        JsonSerializer.SerializeToUtf8Bytes(OpenBadgesProfile.From(id, issuer), ApiJsonContext.Default.OpenBadgesProfile);

    private static byte[] IssuerV2(string id, Issuer issuer) =>
        JsonSerializer.SerializeToUtf8Bytes(OpenBadgesIssuerV2.From(id, issuer), ApiJsonContext.Default.OpenBadgesIssuerV2);

    /// <summary>The document's own URL: never a trailing slash, whichever form was asked for.</summary>
    public static string DocumentUrl(HttpRequest request, ApiOptions options, string version, string org, string entityId) =>
        $"{Links.BaseUrl(request, options)}{request.PathBase}/ob/{version}/orgs/{org}/issuers/{entityId}";

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> PublishAsync(
        string org, string entityId, string version, HttpRequest request, IGrainFactory grains, OrgDirectoryCache orgs, ApiOptions options,
        Func<string, Issuer, byte[]> document)
    {
        // Keys that cannot exist are answered before any lookup; an org not in the directory before its grain is asked.
        if (!OrgKeys.IsValid(org) || !await orgs.ExistsAsync(org)) return Problems.OrgNotFound(org);
        if (!IssuerRules.IsValidEntityId(entityId)) return IssuersApi.IssuerNotFound(entityId);

        var outcome = await grains.GetOrgGrain(org).GetIssuer(entityId);
        if (!outcome.Succeeded) return OutcomeResults.Problem(outcome, org, () => IssuersApi.IssuerNotFound(entityId));

        var bytes = document(DocumentUrl(request, options, version, org, entityId), outcome.Value!);
        request.HttpContext.Response.Headers.CacheControl = CacheControl;
        // The result answers If-None-Match (weak comparison) with 304 and leaves out the body of a HEAD.
        return TypedResults.Bytes(bytes, MediaType, entityTag: EntityTagOf(bytes));
    }

    private static readonly Issuer ExampleIssuer = new("demo-issuer", "Demo Academy", "badges@example.org", "https://example.org",
        "https://example.org/icon.png", null, new Dictionary<string, string>());

    private static string ExampleUrl(string version) => $"https://credentials.example.org/ob/{version}/orgs/demo/issuers/demo-issuer";

    /// <summary>The document the code writes for a sample issuer, as the 200's example, so the two cannot drift apart.</summary>
    private static Task WithExample(OpenApiOperation operation, byte[] document)
    {
        if (operation.Responses is { } responses && responses.TryGetValue("200", out var ok)
            && ok.Content is { } content && content.TryGetValue(MediaType, out var media))
        {
            media.Example = JsonNode.Parse(document);
        }
        return Task.CompletedTask;
    }

    /// <summary>A hash of the document's bytes: it changes whenever anything in the document does, and only then.</summary>
    private static EntityTagHeaderValue EntityTagOf(byte[] bytes) =>
        new($"\"{Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 16))}\"");
}
