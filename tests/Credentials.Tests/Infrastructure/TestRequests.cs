using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Credentials.Tests.Infrastructure;

/// <summary>Small helpers that build requests and read answers, so tests state only what differs.</summary>
public static class TestRequests
{
    public static string NewOrg() => "org-" + Guid.NewGuid().ToString("N")[..16];

    public static string Issuers(string org, string user = "admin") => $"/api/credentials/orgs/{org}/users/{user}/issuers/";

    public static async Task<string> CreatePlatformAsync(this HttpClient client, string? org = null, string? name = null)
    {
        org ??= NewOrg();
        var response = await client.PostAsJsonAsync("/api/platforms/", new { key = org, name });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return org;
    }

    /// <summary>
    /// Set-up for tests of a loaded multi-process cluster: a 503 (the contract's answer to a dependency
    /// that is briefly unavailable) is retried after its Retry-After until <paramref name="deadline"/>;
    /// a 409 on a retry means the earlier attempt was stored after all. Anything else fails.
    /// </summary>
    public static async Task<string> CreatePlatformWhenAvailableAsync(this HttpClient client, TimeSpan deadline)
    {
        var org = NewOrg();
        var until = DateTime.UtcNow + deadline;
        for (var attempt = 1; ; attempt++)
        {
            using var response = await client.PostAsJsonAsync("/api/platforms/", new { key = org });
            if (response.StatusCode == System.Net.HttpStatusCode.Created) return org;
            if (response.StatusCode == System.Net.HttpStatusCode.Conflict && attempt > 1) return org;
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < until,
                $"platform create: {(int)response.StatusCode} {body}");
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
        }
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

    /// <summary>The URL of one issuer.</summary>
    public static string Issuer(string org, string entityId, string user = "admin") =>
        Issuers(org, user) + Uri.EscapeDataString(entityId) + "/";

    /// <summary>Any object (or a JSON literal already in a string) as a JSON request body.</summary>
    public static StringContent JsonBody(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    public static string ToJson(object body) => JsonSerializer.Serialize(body, Json);

    /// <summary>A JSON string literal, escaped as a client would send it.</summary>
    public static string JsonString(string value) => JsonSerializer.Serialize(value);

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, string json) =>
        client.PutAsync(url, JsonBody(json));

    public static Task<HttpResponseMessage> PatchJsonAsync(this HttpClient client, string url, string json) =>
        client.PatchAsync(url, JsonBody(json));

    public static Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string url, HttpContent? content = null) =>
        client.SendAsync(new HttpRequestMessage(method, url) { Content = content });

    /// <summary>An application/x-www-form-urlencoded body; a name may repeat.</summary>
    public static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    /// <summary>A multipart/form-data body of text parts; a name may repeat.</summary>
    public static MultipartFormDataContent Multipart(params (string Name, string Value)[] fields)
    {
        var content = new MultipartFormDataContent();
        foreach (var (name, value) in fields) content.Add(new StringContent(value, System.Text.Encoding.UTF8), name);
        return content;
    }

    /// <summary><paramref name="unit"/> repeated: <c>Repeat("😀", 256)</c> is 256 code points, 512 UTF-16 units.</summary>
    public static string Repeat(string unit, int times) => string.Concat(Enumerable.Repeat(unit, times));

    /// <summary>
    /// Creates <paramref name="count"/> issuers named by <paramref name="name"/>, each batch concurrently
    /// (the service group-commits them) and the batches one after another, so batch k is older than batch k+1.
    /// </summary>
    public static async Task<JsonObject[]> CreateIssuersAsync(
        this HttpClient client, string org, int count, Func<int, string> name, int batchSize = 100)
    {
        var created = new List<JsonObject>(count);
        for (var start = 0; start < count; start += batchSize)
        {
            var batch = Enumerable.Range(start, Math.Min(batchSize, count - start))
                .Select(i => client.CreateIssuerAsync(org, new { name = name(i) }));
            created.AddRange(await Task.WhenAll(batch));
        }
        return created.ToArray();
    }

    /// <summary>Creates issuers one after another, so their creation order is known.</summary>
    public static async Task<JsonObject[]> CreateIssuersInOrderAsync(this HttpClient client, string org, params string[] names)
    {
        var created = new JsonObject[names.Length];
        for (var i = 0; i < names.Length; i++) created[i] = await client.CreateIssuerAsync(org, new { name = names[i] });
        return created;
    }

    /// <summary>GETs the issuer list with <paramref name="query"/> (e.g. <c>"q=x&amp;limit=5"</c>), asserting 200.</summary>
    public static Task<JsonObject> ListIssuersAsync(this HttpClient client, string org, string query = "") =>
        client.GetOkObjectAsync(Issuers(org) + (query.Length > 0 ? "?" + query : ""));

    /// <summary>GETs <paramref name="url"/> (relative or absolute), asserting 200 and a JSON object body.</summary>
    public static async Task<JsonObject> GetOkObjectAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {json}");
        return JsonNode.Parse(json)!.AsObject();
    }

    /// <summary>GETs one issuer, asserting the one-element array shape, and returns the element.</summary>
    public static async Task<JsonObject> ReadIssuerAsync(this HttpClient client, string org, string entityId)
    {
        var response = await client.GetAsync(Issuer(org, entityId));
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, json);
        return Assert.Single(JsonNode.Parse(json)!.AsArray())!.AsObject();
    }

    /// <summary>The names in a list page's <c>data</c>, in order.</summary>
    public static string[] Names(this JsonObject list) =>
        list["result"]!["data"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()).ToArray();
}
