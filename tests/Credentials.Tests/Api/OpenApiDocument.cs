using System.Net;
using System.Text.Json.Nodes;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Api;

/// <summary>
/// The served OpenAPI document next to the service's real endpoint list, so a test walks every
/// operation that exists rather than a copy of the list.
/// </summary>
public sealed record OpenApiDocument(JsonObject Json, IReadOnlyList<DocumentedEndpoint> Endpoints)
{
    public static async Task<OpenApiDocument> LoadAsync(ApiFactory factory)
    {
        using var anonymous = factory.CreateClient();
        var response = await anonymous.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = (await response.JsonAsync()).AsObject();

        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(method =>
                new DocumentedEndpoint(method.ToLowerInvariant(), PathOf(e.RoutePattern), e)))
            .ToArray();
        return new OpenApiDocument(json, endpoints);
    }

    /// <summary>The operation documented for an endpoint; fails when there is none.</summary>
    public JsonObject Operation(DocumentedEndpoint endpoint)
    {
        var operation = Json["paths"]?[endpoint.Path]?[endpoint.Method]?.AsObject();
        Assert.True(operation is not null, $"{endpoint.Method.ToUpperInvariant()} {endpoint.Path} is not in the OpenAPI document.");
        return operation;
    }

    public IEnumerable<(string Path, string Method, JsonObject Operation)> Operations() =>
        from path in Json["paths"]!.AsObject()
        from item in path.Value!.AsObject()
        where item.Key is "get" or "put" or "post" or "delete" or "patch" or "head"
        select (path.Key, item.Key, item.Value!.AsObject());

    /// <summary>A route as the document writes it: no trailing slash, no constraints.</summary>
    private static string PathOf(RoutePattern pattern)
    {
        var segments = pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternParameterPart parameter => "{" + parameter.Name + "}",
            RoutePatternSeparatorPart separator => separator.Content,
            _ => "",
        })));
        return "/" + string.Join("/", segments);
    }
}

/// <summary>One method of one mapped route, with the metadata the pipeline acts on.</summary>
public sealed record DocumentedEndpoint(string Method, string Path, RouteEndpoint Endpoint)
{
    /// <summary>Authorization runs (a policy applies) and nothing lets anonymous callers through.</summary>
    public bool NeedsCredentials =>
        Endpoint.Metadata.GetMetadata<IAuthorizeData>() is not null && Endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null;

    public bool IsRateLimited => Endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.RateLimiting.DisableRateLimitingAttribute>() is null;

    public bool TakesBody => Endpoint.Metadata.GetMetadata<IAcceptsMetadata>() is not null;

    public override string ToString() => $"{Method.ToUpperInvariant()} {Path}";
}
