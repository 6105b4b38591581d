using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Credentials.Tests.Infrastructure;

/// <summary>Small helpers that build requests and read answers, so tests state only what differs.</summary>
public static class Http
{
    public static string NewOrg() => "org-" + Guid.NewGuid().ToString("N")[..16];

    public static string Issuers(string org, string user = "admin") => $"/api/credentials/orgs/{org}/users/{user}/issuers/";

    public static async Task<string> CreatePlatformAsync(this HttpClient client, string? org = null)
    {
        org ??= NewOrg();
        var response = await client.PostAsJsonAsync("/api/platforms/", new { key = org });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return org;
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, string json) =>
        client.PostAsync(url, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    public static async Task<JsonObject> CreateIssuerAsync(this HttpClient client, string org, object body)
    {
        var response = await client.PostAsJsonAsync(Issuers(org), body);
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, json);
        return JsonNode.Parse(json)!["result"]!.AsObject();
    }

    public static async Task<JsonNode> JsonAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    public static async Task<JsonObject> ProblemAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.JsonAsync()).AsObject();
        Assert.Equal((int)response.StatusCode, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["title"]?.GetValue<string>()));
        Assert.False(string.IsNullOrWhiteSpace(problem["detail"]?.GetValue<string>()));
        return problem;
    }

    /// <summary>The field names of a validation problem's <c>errors</c>.</summary>
    public static async Task<string[]> ErrorFieldsAsync(this HttpResponseMessage response)
    {
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        return problem["errors"]?.AsObject().Select(kv => kv.Key).ToArray() ?? [];
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}
