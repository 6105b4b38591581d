using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Credentials.Api.Auth;
using Credentials.Api.Http;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Credentials.Api.Extensions;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c> and the reference page at <c>/scalar</c>.
/// Responses come from the endpoints' typed results and <see cref="ProblemResponses"/>; what
/// metadata cannot say (who may call, text-bound integers, HEAD ids) is added here.
/// </summary>
public static class OpenApiSetup
{
    public const string ApiTokenScheme = "ApiToken";
    public const string BearerScheme = "Bearer";
    public const string ReferencePath = "/scalar";

    /// <summary>What each problem status means in this API, shown beside every response that has it.</summary>
    private static readonly Dictionary<int, string> ProblemMeanings = new()
    {
        [400] = "Invalid input; `errors` names the fields.",
        [401] = "No or bad credentials; `WWW-Authenticate` names the accepted schemes.",
        [403] = "Authenticated but not allowed (also for a missing org the caller could not use).",
        [404] = "The platform (org) or the item does not exist.",
        [409] = "A per-org quota would be exceeded (`type`: `urn:credentials:quota-exceeded`); nothing was stored. On a POST with `Idempotency-Key`: the first request with that key is still running.",
        [413] = "The request body is too large.",
        [415] = "Unsupported media type or charset.",
        [422] = "The `Idempotency-Key` was used before with a different body; nothing was run.",
        [429] = "Rate limited; retry after `Retry-After` seconds.",
        [503] = "A dependency (database, cluster) is unavailable; retry after `Retry-After` seconds.",
    };

    public static IServiceCollection AddCredentialsOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Credentials API";
                document.Info.Description = "Issuers and images of credential platforms (orgs). The repository's docs/api.md describes every call with examples.";
                AddSecuritySchemes(document);
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                Describe(operation, context);
                return Task.CompletedTask;
            });
        });

    /// <summary>The document (anonymous) and the reference page, which loads its script from this service only.</summary>
    public static void MapApiReference(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments(ReferencePath), branch => branch.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                context.Response.Headers.ContentSecurityPolicy =
                    ReferencePolicy(context.Items[ScalarOptions.NonceHttpContextItemKey] as string);
                return Task.CompletedTask;
            });
            return next(context);
        }));
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference(ReferencePath, options => options
                .WithTitle("Credentials API")
                .WithOpenApiRoutePattern("/openapi/{documentName}.json")
                .DisableDefaultFonts()
                .DisableTelemetry()
                .DisableAgent()
                .ExpandAllTags()
                .WithNonce())
            .AllowAnonymous();
    }

    /// <summary>
    /// The page's own script (by nonce) and its bundle from this origin; Vue's inline styles; the
    /// document and "try it" calls to this origin only. Nothing else, and it cannot be framed.
    /// </summary>
    public static string ReferencePolicy(string? nonce) =>
        "default-src 'none'; "
        + (nonce is null ? "script-src 'self'; " : $"script-src 'self' 'nonce-{nonce}'; ")
        + "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static void AddSecuritySchemes(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes.TryAdd(ApiTokenScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = "Authorization",
            Description = "`Authorization: Api-Token <token>` (or `Api-Key <token>`): the super-admin token or an org API token (`cro_{org}.…`). Enter the whole value, prefix included.",
        });
        document.Components.SecuritySchemes.TryAdd(BearerScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A user token (claims `sub`, `org`, `role` admin|student, `exp`); accepted when the service has `Auth:Jwt` configured.",
        });
    }

    private static void Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var description = context.Description;
        var metadata = description.ActionDescriptor.EndpointMetadata;

        if (ProblemResponses.RequiresCredentials(metadata))
        {
            var document = context.Document!;
            AddSecuritySchemes(document);
            // The super-admin holds an Api-Token only; a JWT never passes that policy.
            var superAdminOnly = metadata.OfType<IAuthorizeData>().Any(a => a.Policy == AccessPolicies.SuperAdmin);
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiTokenScheme, document)] = [] }];
            if (!superAdminOnly)
            {
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] });
            }
        }

        // GET and HEAD share one handler and name; operation ids must be unique.
        if (HttpMethods.IsHead(description.HttpMethod ?? "") && operation.OperationId is { } id)
        {
            operation.OperationId = id.StartsWith("Get", StringComparison.Ordinal) ? "Head" + id[3..] : id + "Head";
        }

        IdempotencyOpenApi.Describe(operation, metadata);

        foreach (var parameter in description.ParameterDescriptions)
        {
            if (parameter.ParameterDescriptor is not IParameterInfoParameterDescriptor { ParameterInfo: var info }) continue;
            if (operation.Parameters?.OfType<OpenApiParameter>().FirstOrDefault(p => p.Name == parameter.Name) is not { } documented) continue;
            if (info.GetCustomAttributes(typeof(RequiredAttribute), false).Length > 0) documented.Required = true;
            if (info.GetCustomAttributes(typeof(IntegerQueryAttribute), false) is [IntegerQueryAttribute integer, ..])
            {
                documented.Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer,
                    Format = "int64",
                    Minimum = integer.Minimum.ToString(CultureInfo.InvariantCulture),
                };
                documented.Description = integer.Description;
            }
        }

        if (operation.Responses is { Count: > 1 } responses)
        {
            // In status order, as a reader looks them up.
            var ordered = responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
            responses.Clear();
            foreach (var (status, response) in ordered) responses[status] = response;
        }
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (response is OpenApiResponse concrete && int.TryParse(status, out var code) && ProblemMeanings.TryGetValue(code, out var meaning)
                && (string.IsNullOrEmpty(concrete.Description) || concrete.Description == ReasonPhrases.GetReasonPhrase(code)))
            {
                concrete.Description = meaning;
            }
        }
    }
}
