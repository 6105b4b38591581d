using System.Net;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Idempotency;

/// <summary>What a test compares between a first answer and its replay.</summary>
public sealed record Answer(HttpStatusCode Status, byte[] Body, string? ContentType, Uri? Location, bool Replayed)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);

    /// <summary>The same answer as <paramref name="first"/>, sent again as a replay.</summary>
    public void AssertReplayOf(Answer first)
    {
        Assert.True(Replayed, $"not marked as a replay: {(int)Status} {Text}");
        Assert.Equal(first.Status, Status);
        Assert.Equal(first.Body, Body);
        Assert.Equal(first.ContentType, ContentType);
        Assert.Equal(first.Location, Location);
    }
}

/// <summary>Sends POSTs with an Idempotency-Key; content is made afresh for every send (a new multipart boundary each time).</summary>
public static class IdempotencyRequests
{
    public const string KeyHeader = "Idempotency-Key";

    public static string NewKey() => "key-" + Guid.NewGuid().ToString("N");

    public static async Task<Answer> PostAsync(this HttpClient client, string url, Func<HttpContent> content, params string[] keys)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content() };
        if (keys.Length > 0) request.Headers.TryAddWithoutValidation(KeyHeader, keys);
        using var response = await client.SendAsync(request);
        return new Answer(
            response.StatusCode,
            await response.Content.ReadAsByteArrayAsync(),
            response.Content.Headers.ContentType?.ToString(),
            response.Headers.Location,
            response.Headers.TryGetValues("Idempotent-Replayed", out var replayed) && replayed.Single() == "true");
    }

    public static Func<HttpContent> Json(string json) => () => new StringContent(json, System.Text.Encoding.UTF8, "application/json");

    public static async Task<int> IssuerCountAsync(this HttpClient client, string org) =>
        (await (await client.GetAsync(TestRequests.Issuers(org))).JsonAsync())["result"]!["count"]!.GetValue<int>();
}
