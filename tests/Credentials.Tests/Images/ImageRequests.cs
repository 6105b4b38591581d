using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Images;

/// <summary>Builds image requests and reads their answers, so tests state only what differs.</summary>
public static class ImageRequests
{
    public static string Images(string org, string user = "admin") => $"/api/credentials/orgs/{org}/users/{user}/images/";

    public static string Image(string org, long id, string user = "admin") => $"{Images(org, user)}{id}/";

    public static string Search(string org, string query, string user = "admin") => $"{Images(org, user)}?query={Uri.EscapeDataString(query)}";

    /// <summary>
    /// A multipart body with the file in <c>image</c> (as <paramref name="fileName"/>, declared as
    /// <paramref name="contentType"/>) and, when given, a <c>name</c> field.
    /// </summary>
    public static MultipartFormDataContent Upload(byte[] bytes, string fileName = "image.bin", string contentType = "application/octet-stream", string? name = null)
    {
        var content = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        content.Add(file, "image", fileName);
        if (name is not null) content.Add(new StringContent(name, Encoding.UTF8), "name");
        return content;
    }

    /// <summary>
    /// A multipart body written byte by byte, for file names HttpClient would encode or refuse:
    /// the <c>filename</c> parameter goes out exactly as given (UTF-8, quoted).
    /// </summary>
    public static ByteArrayContent RawUpload(byte[] bytes, string fileName, string? name = null)
    {
        const string boundary = "----credentials-test-boundary-7d1f";
        using var body = new MemoryStream();
        void Write(string text) => body.Write(Encoding.UTF8.GetBytes(text));
        if (name is not null)
        {
            Write($"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{name}\r\n");
        }
        Write($"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.Write(bytes);
        Write($"\r\n--{boundary}--\r\n");
        var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        return content;
    }

    /// <summary>Uploads and asserts 200; returns the image object.</summary>
    public static async Task<JsonObject> UploadImageAsync(
        this HttpClient client, string org, byte[] bytes, string fileName = "image.bin", string contentType = "application/octet-stream",
        string? name = null, string user = "admin")
    {
        var response = await client.PostAsync(Images(org, user), Upload(bytes, fileName, contentType, name));
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"upload: {(int)response.StatusCode} {json}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var image = JsonNode.Parse(json)!.AsObject();
        AssertImageShape(image);
        return image;
    }

    /// <summary>Exactly <c>id</c> (an integer), <c>name</c> and <c>image</c> (an absolute URL).</summary>
    public static void AssertImageShape(JsonObject image)
    {
        Assert.Equal(["id", "image", "name"], image.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(System.Text.Json.JsonValueKind.Number, image["id"]!.GetValueKind());
        Assert.True(image["id"]!.GetValue<long>() > 0);
        Assert.Equal(System.Text.Json.JsonValueKind.String, image["name"]!.GetValueKind());
        Assert.True(Uri.TryCreate(image["image"]!.GetValue<string>(), UriKind.Absolute, out var url), image.ToJsonString());
        Assert.True(url!.Scheme is "http" or "https");
    }

    /// <summary>Searches and asserts 200 with a JSON array; returns its objects.</summary>
    public static async Task<JsonObject[]> SearchImagesAsync(this HttpClient client, string org, string query, string extra = "", string user = "admin")
    {
        var response = await client.GetAsync(Search(org, query, user) + extra);
        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"search: {(int)response.StatusCode} {json}");
        return JsonNode.Parse(json)!.AsArray().Select(i => i!.AsObject()).ToArray();
    }

    public static long Id(this JsonObject image) => image["id"]!.GetValue<long>();

    public static string Name(this JsonObject image) => image["name"]!.GetValue<string>();

    public static string Url(this JsonObject image) => image["image"]!.GetValue<string>();

    /// <summary>The media path of an image (what follows the host in its URL).</summary>
    public static string MediaPath(this JsonObject image) => new Uri(image.Url()).PathAndQuery;

    /// <summary>The error messages a validation problem holds for <paramref name="field"/>, asserting it is a 400 problem.</summary>
    public static async Task<string> InvalidAsync(this HttpResponseMessage response, string field)
    {
        var fields = await response.ErrorFieldsAsync();
        Assert.Contains(field, fields);
        return (await response.Content.ReadAsStringAsync());
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the deadline passes; never a fixed sleep.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        var delay = TimeSpan.FromMilliseconds(5);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 200));
        }
    }

    /// <summary>Every file in an org's folder of the file blob store (temporary ones too).</summary>
    public static string[] BlobFiles(ApiFactory factory, string org)
    {
        var directory = Path.Combine(factory.DataDirectory, "blobs", factory.ServiceId, org);
        return Directory.Exists(directory) ? Directory.GetFiles(directory) : [];
    }
}
