using System.Net;
using System.Text.Json.Nodes;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Events;

/// <summary>Reads an org's events (C4) and sends requests under a chosen X-Request-Id.</summary>
public static class EventRequests
{
    public static string Events(string org) => $"/api/platforms/{org}/events/";

    /// <summary>GETs a page and asserts 200; returns the page object.</summary>
    public static async Task<JsonObject> EventPageAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"events: {(int)response.StatusCode} {json}");
        return JsonNode.Parse(json)!.AsObject();
    }

    /// <summary>Every event of the org, following <c>next</c> from the first page.</summary>
    public static async Task<JsonObject[]> AllEventsAsync(this HttpClient client, string org, int? limit = null)
    {
        var events = new List<JsonObject>();
        string? url = Events(org) + (limit is { } l ? $"?limit={l}" : "");
        while (url is not null)
        {
            var page = await client.EventPageAsync(url);
            events.AddRange(page["events"]!.AsArray().Select(e => e!.AsObject()));
            url = page["next"]?.GetValue<string>() is { } next ? new Uri(next).PathAndQuery : null;
        }
        return [.. events];
    }

    /// <summary>An event as one comparable line: action, actor, target and request id.</summary>
    public static string Summary(this JsonObject e) =>
        $"{e["action"]} by {e["actor"]!["kind"]}:{e["actor"]!["id"]?.ToJsonString() ?? "null"} on {e["target"]!["type"]}:{e["target"]!["id"]!.ToJsonString()} in {e["request_id"]}";

    public static async Task<HttpResponseMessage> SendAsAsync(this HttpClient client, string requestId, HttpMethod method, string url, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Add("X-Request-Id", requestId);
        return await client.SendAsync(request);
    }
}
