using Credentials.Api.Contracts;
using Credentials.Api.Extensions;
using Credentials.Api.Http;
using Credentials.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Apis;

/// <summary>C5: an org's webhooks. The signing secret is shown once, at creation.</summary>
public static class WebhooksApi
{
    public static RouteGroupBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapOrgAdminArea("webhooks", "Platform webhooks");

        group.MapPost("/", CreateWebhook)
            .WithName("CreateWebhook")
            .WithSummary("Subscribe a URL to the org's events; the answer is the only time the signing secret is shown.")
            .Accepts<CreateWebhookRequest>("application/json")
            // Its answer holds the signing secret, which a kept answer would store for 24 h.
            .RefusesIdempotencyKey();

        group.MapGet("/", ListWebhooks)
            .WithName("ListWebhooks")
            .WithSummary("List the org's webhooks, never their secrets.");

        group.MapDelete("/{id}/", DeleteWebhook)
            .WithName("DeleteWebhook")
            .WithSummary("Delete a webhook; its pending deliveries are dropped.");

        group.MapGet("/{id}/deliveries/", ListDeliveries)
            .WithName("ListWebhookDeliveries")
            .WithSummary("The webhook's latest delivery attempts, newest first: event id, time, response status or error.");

        return group;
    }

    public static async Task<Results<Created<WebhookCreatedView>, ProblemHttpResult, ValidationProblem>> CreateWebhook(
        string org, HttpRequest request, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, ApiJsonContext.Default.CreateWebhookRequest, options.Value.MaxBodyBytes,
            "a JSON object with a \"url\" string and an \"events\" array of strings");
        if (problem is not null) return problem;
        var outcome = await grains.GetOrgGrain(org).CreateWebhook(body?.Url, body?.Events);
        return OutcomeResults.MapWrite(outcome, org, created => TypedResults.Created($"/api/platforms/{org}/webhooks/{created.Webhook.Id}/",
            new WebhookCreatedView(created.Webhook.Id, created.Webhook.Url, created.Webhook.Events, created.Secret, PlatformView.Timestamp(created.Webhook.Created))));
    }

    public static async Task<Results<Ok<WebhookView[]>, ProblemHttpResult>> ListWebhooks(string org, IGrainFactory grains)
    {
        var outcome = await grains.GetOrgGrain(org).ListWebhooks();
        return OutcomeResults.Map(outcome, org,
            webhooks => TypedResults.Ok(webhooks.Select(w => new WebhookView(w.Id, w.Url, w.Events, PlatformView.Timestamp(w.Created))).ToArray()));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteWebhook(string org, string id, IGrainFactory grains)
    {
        var outcome = await grains.GetOrgGrain(org).DeleteWebhook(id);
        return OutcomeResults.Map(outcome, org, _ => TypedResults.NoContent(), () => NoSuchWebhook(id));
    }

    public static async Task<Results<Ok<DeliveryList>, ProblemHttpResult>> ListDeliveries(string org, string id, IGrainFactory grains)
    {
        var outcome = await grains.GetOrgGrain(org).ListWebhookAttempts(id);
        return OutcomeResults.Map(outcome, org, attempts => TypedResults.Ok(new DeliveryList(attempts
            .Select(a => new DeliveryView(a.EventId, OrgEventJson.Timestamp(a.At), a.Status, a.Error, a.Delivered)).ToArray())), () => NoSuchWebhook(id));
    }

    private static ProblemHttpResult NoSuchWebhook(string id) => Problems.NotFound($"No webhook with id '{id}'.");
}
