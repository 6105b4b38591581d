using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Credentials.Grains;
using Credentials.Grains.Blobs;
using Credentials.Grains.Issuers;
using Credentials.Grains.Quotas;
using Credentials.Tests.Images;
using Credentials.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Quota;

/// <summary>
/// B6: an org's byte limits, on both backends. A write that would pass a limit is a 409
/// quota-exceeded problem that names the limit and stores nothing; the usage is exact after a
/// restart, and a delete frees room.
/// </summary>
public abstract class OrgQuotaTests(Backend backend)
{
    private const string QuotaType = "urn:credentials:quota-exceeded";

    /// <summary>The embedded service with these limits, over a fresh data folder or the one of <paramref name="before"/>.</summary>
    private ApiFactory Service(ApiFactory? before = null, long? recordBytes = null, long? imageBytes = null)
    {
        var factory = new ApiFactory(backend, before?.DataDirectory, before?.ServiceId);
        foreach (var (key, value) in before?.Settings ?? [])
        {
            factory.Settings[key] = value;
        }
        if (recordBytes is { } r) factory.Settings["Limits:MaxOrgRecordBytes"] = r.ToString(CultureInfo.InvariantCulture);
        if (imageBytes is { } i) factory.Settings["Limits:MaxOrgImageBytes"] = i.ToString(CultureInfo.InvariantCulture);
        return factory;
    }

    private static async Task AssertQuotaExceededAsync(HttpResponseMessage response, string limit, long value)
    {
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.Equal(QuotaType, problem["type"]!.GetValue<string>());
        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains(limit, detail);
        Assert.Contains(value.ToString(CultureInfo.InvariantCulture), detail);
    }

    /// <summary>An issuer as the service stores one created with just a name and an entityId.</summary>
    private static Issuer Stored(string entityId, string name) =>
        new(entityId, name, null, null, null, null, IssuerRules.EmptySignatories);

    private static Task<HttpResponseMessage> Create(HttpClient client, string org, string entityId, string name) =>
        client.PostAsJsonAsync(TestRequests.Issuers(org), new { name, entityId });

    private static async Task<int> CountAsync(HttpClient client, string org) =>
        (await client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>();

    private static string HashOf(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static async Task<string[]> BlobsAsync(ApiFactory factory, string org)
    {
        var hashes = new List<string>();
        await foreach (var (sha256, _) in factory.Services.GetRequiredService<IBlobStore>().ListAsync(org)) hashes.Add(sha256);
        return hashes.Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public async Task Issuer_writes_past_the_record_limit_are_refused_and_the_usage_holds_across_a_restart()
    {
        // Three issuers of the same size fill the limit exactly.
        var size = RecordSize.Of(Stored("i1", "Quota issuer"));
        var limit = 3 * size;
        var first = Service(recordBytes: limit);
        string org;
        await using (first)
        {
            var client = first.AdminClient();
            org = await client.CreatePlatformAsync();
            foreach (var id in new[] { "i1", "i2", "i3" })
            {
                Assert.Equal(HttpStatusCode.OK, (await Create(client, org, id, "Quota issuer")).StatusCode);
            }

            await AssertQuotaExceededAsync(await Create(client, org, "i4", "Quota issuer"), "Limits:MaxOrgRecordBytes", limit);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(TestRequests.Issuer(org, "i4"))).StatusCode);
            Assert.Equal(3, await CountAsync(client, org));

            // A replacement counts only its difference: one byte more does not fit, the same size does.
            await AssertQuotaExceededAsync(await client.PutAsJsonAsync(TestRequests.Issuer(org, "i1"), new { name = "Quota issuerX" }), "Limits:MaxOrgRecordBytes", limit);
            await AssertQuotaExceededAsync(await client.PatchAsJsonAsync(TestRequests.Issuer(org, "i1"), new { email = "a@example.com" }), "Limits:MaxOrgRecordBytes", limit);
            Assert.Equal("Quota issuer", (await client.ReadIssuerAsync(org, "i1"))["name"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync(TestRequests.Issuer(org, "i1"), new { name = "Quota Issuer" })).StatusCode);
            // Shrinking always fits, and frees what it no longer uses.
            Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync(TestRequests.Issuer(org, "i2"), new { name = "Quota" })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync(TestRequests.Issuer(org, "i2"), new { name = "Quota issuer" })).StatusCode);
        }

        var second = Service(first);
        await using (second)
        {
            var client = second.AdminClient();
            await AssertQuotaExceededAsync(await Create(client, org, "i4", "Quota issuer"), "Limits:MaxOrgRecordBytes", limit);
            Assert.Equal(3, await CountAsync(client, org));

            Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync(TestRequests.Issuer(org, "i2"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Create(client, org, "i4", "Quota issuer")).StatusCode);
            await AssertQuotaExceededAsync(await Create(client, org, "i5", "Quota issuer"), "Limits:MaxOrgRecordBytes", limit);
        }
    }

    [Fact]
    public async Task Concurrent_creates_never_pass_the_record_limit()
    {
        var size = RecordSize.Of(Stored("c00", "Racing issuer"));
        var limit = 10 * size;
        await using var factory = Service(recordBytes: limit);
        var client = factory.AdminClient();
        var org = await client.CreatePlatformAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Create(client, org, $"c{i:D2}", "Racing issuer")));

        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(30, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(10, await CountAsync(client, org));
    }

    [Fact]
    public async Task Image_bytes_count_once_per_content_and_bytes_past_the_limit_are_never_kept()
    {
        var a = SampleImages.Png(seed: 1);
        var b = SampleImages.Png(seed: 2);
        var limit = a.Length + b.Length - 1;
        var first = Service(imageBytes: limit);
        string org;
        await using (first)
        {
            var admin = first.AdminClient();
            org = await admin.CreatePlatformAsync();
            await admin.UploadImageAsync(org, a, name: "a1");
            // The same bytes again are stored once, so they take no more of the image limit.
            await admin.UploadImageAsync(org, a, name: "a2");

            await AssertQuotaExceededAsync(
                await admin.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(b, name: "b")), "Limits:MaxOrgImageBytes", limit);
            Assert.Equal(["a1", "a2"], (await admin.SearchImagesAsync(org, "")).Select(i => i.Name()));
            Assert.Equal([HashOf(a)], await BlobsAsync(first, org));
        }

        var second = Service(first);
        await using (second)
        {
            var admin = second.AdminClient();
            await AssertQuotaExceededAsync(
                await admin.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(b, name: "b")), "Limits:MaxOrgImageBytes", limit);
            Assert.Equal([HashOf(a)], await BlobsAsync(second, org));

            var images = await admin.SearchImagesAsync(org, "");
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(ImageRequests.Image(org, images[0].Id()))).StatusCode);
            // a2 still uses the bytes of a: nothing is freed yet.
            await AssertQuotaExceededAsync(
                await admin.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(b, name: "b")), "Limits:MaxOrgImageBytes", limit);
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(ImageRequests.Image(org, images[1].Id()))).StatusCode);

            await admin.UploadImageAsync(org, b, name: "b");
            Assert.Equal([HashOf(b)], await BlobsAsync(second, org));
        }
    }

    [Fact]
    public async Task An_image_record_past_the_record_limit_is_refused_before_its_bytes_are_stored()
    {
        var issuer = RecordSize.Of(Stored("only", "Fills the records"));
        await using var factory = Service(recordBytes: issuer + 50);
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        Assert.Equal(HttpStatusCode.OK, (await Create(admin, org, "only", "Fills the records")).StatusCode);

        var response = await admin.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(SampleImages.Png(seed: 3), name: "no room"));

        await AssertQuotaExceededAsync(response, "Limits:MaxOrgRecordBytes", issuer + 50);
        Assert.Empty(await admin.SearchImagesAsync(org, ""));
        Assert.Empty(await BlobsAsync(factory, org));
    }

    [Fact]
    public async Task The_grain_decides_again_when_the_record_is_added_and_drops_bytes_already_stored()
    {
        var bytes = SampleImages.Png(seed: 4);
        await using var factory = Service(imageBytes: bytes.Length - 1);
        var admin = factory.AdminClient();
        var org = await admin.CreatePlatformAsync();
        var hash = HashOf(bytes);
        // As if the room was checked before another upload took it: the bytes are already in the store.
        await factory.Services.GetRequiredService<IBlobStore>().PutAsync(org, hash, bytes);
        var grain = factory.Services.GetRequiredService<IGrainFactory>().GetGrain<IOrgGrain>(org);

        var outcome = await grain.AddImage(new ImageUpload("late", "late.png", hash, "png", bytes.Length, 4, 3));

        Assert.Equal(OutcomeStatus.QuotaExceeded, outcome.Status);
        Assert.Contains("Limits:MaxOrgImageBytes", outcome.Detail);
        Assert.Empty(await admin.SearchImagesAsync(org, ""));
        Assert.Empty(await BlobsAsync(factory, org));
    }
}

public sealed class SqliteOrgQuotaTests() : OrgQuotaTests(Backend.Sqlite);

public sealed class PostgreSqlOrgQuotaTests() : OrgQuotaTests(Backend.PostgreSql);
