using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Credentials.Bench;

/// <summary>
/// Talks to the service under test: creates the bench's own platforms (unique keys, so no other
/// data is touched), fills them with issuers or images, and builds the scenario requests.
/// </summary>
public sealed class ServiceClient(Uri baseUrl, string token, HttpClient http)
{
    public const string UserId = "bench";
    /// <summary>The search term: 1 issuer in 100 has it in its name.</summary>
    public const string Needle = "needle";

    public Uri BaseUrl => baseUrl;

    public Uri IssuersUrl(string org, string? query = null)
    {
        var path = $"api/credentials/orgs/{org}/users/{UserId}/issuers/?limit=50";
        if (query is not null) path += "&q=" + Uri.EscapeDataString(query);
        return new Uri(baseUrl, path);
    }

    /// <summary>The image search term every bench image name contains.</summary>
    public const string ImageCommonTerm = "icon";

    /// <summary>A valid 1×1 RGBA PNG (70 bytes, correct CRCs): every upload sends these same bytes.</summary>
    public static readonly byte[] TinyPng = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    /// <summary>A1/A2: <c>…/images/</c>, with <c>query</c> (and <c>limit</c>) for a search.</summary>
    public Uri ImagesUrl(string org, string? query = null, int? limit = null)
    {
        var path = $"api/credentials/orgs/{org}/users/{UserId}/images/";
        if (query is not null) path += "?query=" + Uri.EscapeDataString(query);
        if (limit is not null) path += (query is null ? "?" : "&") + "limit=" + limit.Value.ToString(CultureInfo.InvariantCulture);
        return new Uri(baseUrl, path);
    }

    /// <summary>Image name number <paramref name="i"/>: every 100th carries <see cref="Needle"/>, all carry <see cref="ImageCommonTerm"/>.</summary>
    public static string ImageName(long i) =>
        string.Create(CultureInfo.InvariantCulture, $"Certificate icon {i:D6}{(i % 100 == 0 ? " " + Needle : "")}");

    /// <summary>How many of images 0..count-1 carry <see cref="Needle"/>.</summary>
    public static int ImageNeedleCount(int count) => (count + 99) / 100;

    /// <summary>A2: multipart/form-data with the file in <c>image</c> and the record's <c>name</c>.</summary>
    public HttpRequestMessage PostImage(Uri url, string name, byte[]? png = null) => PostImage(url, name, png ?? TinyPng, "certificate-icon.png", "image/png");

    public HttpRequestMessage PostImage(Uri url, string name, byte[] bytes, string fileName, string contentType)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        var form = new MultipartFormDataContent
        {
            { file, "image", fileName },
            { new StringContent(name, Encoding.UTF8), "name" },
        };
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = form };
        request.Headers.Authorization = new AuthenticationHeaderValue("Api-Token", token);
        return request;
    }

    /// <summary>One upload whose 200 body is checked against A2: <c>{"id": int, "name": name, "image": absolute URL}</c>.</summary>
    public async Task UploadImageCheckedAsync(Uri url, string name)
    {
        using var request = PostImage(url, name);
        using var response = await http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"POST {url} (image upload) answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        }
        using var document = JsonDocument.Parse(bytes);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.Number
            || !root.TryGetProperty("name", out var stored) || stored.GetString() != name
            || !root.TryGetProperty("image", out var image) || !Uri.TryCreate(image.GetString(), UriKind.Absolute, out _))
        {
            throw new InvalidOperationException($"POST {url} (image upload) answered an unexpected body: {Encoding.UTF8.GetString(bytes)}");
        }
    }

    /// <summary>One upload of <paramref name="png"/>; returns the path of its media URL.</summary>
    public async Task<string> UploadAsync(Uri url, string name, byte[] png)
    {
        using var request = PostImage(url, name, png);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"POST {url} (image upload) answered {(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        return new Uri(document.RootElement.GetProperty("image").GetString()!).PathAndQuery;
    }

    /// <summary>How many images <paramref name="org"/> holds now (<c>query=</c> matches all; ids only counted).</summary>
    public async Task<int> ImageCountAsync(string org)
    {
        using var request = Get(ImagesUrl(org, ""));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return document.RootElement.GetArrayLength();
    }

    /// <summary>The bytes of one image search, checked to be 200 with a JSON array of the expected length.</summary>
    public async Task<byte[]> FetchImagesAsync(Uri url, int expectedCount)
    {
        using var request = Get(url);
        using var response = await http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {url} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        }
        using var document = JsonDocument.Parse(bytes);
        if (document.RootElement.ValueKind != JsonValueKind.Array || document.RootElement.GetArrayLength() != expectedCount)
        {
            throw new InvalidOperationException(
                $"GET {url} returned {(document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement.GetArrayLength() + " images" : "no array")}, expected {expectedCount}.");
        }
        return bytes;
    }

    public HttpRequestMessage Get(Uri url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Api-Token", token);
        return request;
    }

    public HttpRequestMessage PostJson(Uri url, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Api-Token", token);
        return request;
    }

    /// <summary>A realistic issuer body; names are unique per (prefix, number).</summary>
    public static string IssuerJson(string name, long number) =>
        string.Create(CultureInfo.InvariantCulture,
            $$"""{"name":"{{name}}","email":"issuer{{number}}@bench.example","url":"https://bench.example/issuers/{{number}}","signatories":{"Dean":"Ada Lovelace"},"allowed_template_tags":["bench","course"]}""");

    /// <summary>Seeding name: every 100th issuer carries <see cref="Needle"/>, so a search matches 1 %.</summary>
    public static string SeedName(long i) =>
        string.Create(CultureInfo.InvariantCulture, $"Bench Issuer {i:D6}{(i % 100 == 0 ? " " + Needle : "")}");

    public static string NewOrgKey(string purpose) =>
        $"bench-{Convert.ToHexString(Guid.NewGuid().ToByteArray().AsSpan(0, 5)).ToLowerInvariant()}-{purpose}";

    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(baseUrl, "readyz"));
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            if (deadline.Elapsed > timeout) throw new InvalidOperationException($"{baseUrl}readyz did not answer 200 within {timeout.TotalSeconds:0} s.");
            await Task.Delay(250);
        }
    }

    public async Task CreatePlatformAsync(string key)
    {
        using var request = PostJson(new Uri(baseUrl, "api/platforms/"), $$"""{"key":"{{key}}","name":"Benchmark {{key}}"}""");
        using var response = await http.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException(
                $"POST /api/platforms/ for '{key}' answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()} " +
                "(is --token the service's super-admin token?)");
        }
    }

    /// <summary>Subscribes <paramref name="target"/> to every event of <paramref name="org"/> (C5).</summary>
    public async Task SubscribeWebhookAsync(string org, Uri target)
    {
        using var request = PostJson(new Uri(baseUrl, $"api/platforms/{org}/webhooks/"), $$"""{"url":"{{target}}","events":["*"]}""");
        using var response = await http.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException(
                $"POST /api/platforms/{org}/webhooks/ answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()} " +
                "(does the service run with Webhooks:AllowInsecureTargets=true?)");
        }
    }

    /// <summary>Creates <paramref name="count"/> issuers in <paramref name="org"/> with bounded parallelism and a deadline.</summary>
    public async Task FillAsync(string org, int count, int parallelism, TimeSpan timeout)
    {
        var url = IssuersUrl(org);
        var next = -1L;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, Math.Max(1, Math.Min(parallelism, count))).Select(async _ =>
        {
            long i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                if (clock.Elapsed > timeout) throw new TimeoutException($"Filling {org} with {count} issuers took more than {timeout.TotalSeconds:0} s.");
                using var request = PostJson(url, IssuerJson(SeedName(i), i));
                using var response = await http.SendAsync(request);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"Seeding issuer {i} of {org} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }
        });
        await Task.WhenAll(workers);
    }

    /// <summary>How many issuers <paramref name="org"/> holds now.</summary>
    public async Task<int> CountAsync(string org)
    {
        using var request = Get(new Uri(baseUrl, $"api/credentials/orgs/{org}/users/{UserId}/issuers/?limit=1"));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return document.RootElement.GetProperty("result").GetProperty("count").GetInt32();
    }

    /// <summary>The bytes of one response, checked to be 200 with the expected count.</summary>
    public async Task<byte[]> FetchPageAsync(Uri url, int expectedCount)
    {
        using var request = Get(url);
        using var response = await http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {url} answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        }
        using var document = JsonDocument.Parse(bytes);
        var count = document.RootElement.GetProperty("result").GetProperty("count").GetInt32();
        if (count != expectedCount)
        {
            throw new InvalidOperationException($"GET {url} reports count {count}, expected {expectedCount}.");
        }
        return bytes;
    }
}
