using System.Globalization;
using Credentials.Api.Auth;
using Credentials.Api.Contracts;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Credentials.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Apis;

/// <summary>C4: an org's events, the audit trail and change feed of every acknowledged change.</summary>
public static class EventsApi
{
    public const int DefaultLimit = 100;
    public const string LimitText = "Events per page: default 100, larger values are clamped to 1000.";
    public const string AfterText = "Only events with an id above this one: default 0 (from the oldest kept).";

    public static RouteGroupBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapOrgAdminArea("events", "Platform events");

        group.MapGet("/", ListEvents)
            .WithName("ListEvents")
            .WithSummary("List the org's events, oldest first, after an event id; next reads on (super-admin or org admin).");

        return group;
    }

    /// <summary>One bounded grain reply per page: when it holds fewer than asked, <c>next</c> goes on after its last event.</summary>
    public static async Task<Results<StreamedJson<EventList>, ProblemHttpResult, ValidationProblem>> ListEvents(
        string org,
        [FromQuery, IntegerQuery(0, AfterText)] string? after,
        [FromQuery, IntegerQuery(1, LimitText)] string? limit,
        HttpRequest request,
        IGrainFactory grains,
        IOptions<ApiOptions> options)
    {
        if (!Paging.TryParse(limit, null, DefaultLimit, out var paging, out var problem)) return problem;
        if (!Paging.TryParseCursor(after, "after", out var afterId, out problem)) return problem;

        var outcome = await grains.GetOrgGrain(org).ReadEvents(afterId, paging.Limit);
        if (!outcome.Succeeded) return OutcomeResults.Problem(outcome, org);
        var page = outcome.Value!;
        var next = page.More && page.Events.Count > 0
            ? $"{Links.BaseUrl(request, options.Value)}{request.PathBase.Add(request.Path).Value}?after={page.Events[^1].Id.ToString(CultureInfo.InvariantCulture)}&limit={paging.Limit.ToString(CultureInfo.InvariantCulture)}"
            : null;

        // The shape of EventList, written by the one writer of the event shape.
        return new StreamedJson<EventList>(writer =>
        {
            var json = writer.Json;
            json.WriteStartObject();
            json.WriteStartArray("events");
            foreach (var orgEvent in page.Events) OrgEventJson.Write(json, orgEvent);
            json.WriteEndArray();
            json.WriteString("next", next);
            json.WriteEndObject();
            return Task.CompletedTask;
        });
    }
}
