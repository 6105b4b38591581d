using System.Globalization;
using System.Net;
using Credentials.Tests.Images;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Renditions;

/// <summary>
/// Renditions count in the org's image bytes (Limits:MaxOrgImageBytes), across a restart, and
/// go from the count with their source; a rendition that would pass the limit is a 409.
/// </summary>
public abstract class RenditionQuotaTests(Backend backend)
{
    [Fact]
    public async Task Stored_renditions_count_in_the_image_bytes_and_a_full_org_gets_no_new_ones()
    {
        var a = SampleImages.Png(160, 120, seed: 21);
        var b = SampleImages.Png(150, 110, seed: 22);
        var first = new ApiFactory(backend);
        first.Settings["Limits:MaxOrgImageBytes"] = (a.Length + b.Length).ToString(CultureInfo.InvariantCulture);
        string org;
        System.Text.Json.Nodes.JsonObject imageA;
        await using (first)
        {
            var admin = first.AdminClient();
            org = await admin.CreatePlatformAsync();
            imageA = await admin.UploadImageAsync(org, a);
            Assert.Equal(HttpStatusCode.OK, (await first.CreateClient().GetAsync(RenditionTests.PathOf(org, imageA, 64))).StatusCode);
        }

        var restarted = first.Restarted();
        restarted.Settings["Limits:MaxOrgImageBytes"] = (a.Length + b.Length).ToString(CultureInfo.InvariantCulture);
        await using (restarted)
        {
            var admin = restarted.AdminClient();
            // B alone fits beside A; with A's rendition it does not.
            var refused = await admin.PostAsync(ImageRequests.Images(org), ImageRequests.Upload(b));
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);

            // Deleting A takes its rendition's bytes with it.
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(ImageRequests.Image(org, imageA.Id()))).StatusCode);
            var imageB = await admin.UploadImageAsync(org, b);
            await admin.UploadImageAsync(org, a);

            // Now the org's image bytes are exactly at the limit: no rendition is made.
            var full = await restarted.CreateClient().GetAsync(RenditionTests.PathOf(org, imageB, 64));
            Assert.Equal(HttpStatusCode.Conflict, full.StatusCode);
            var problem = await full.ProblemAsync();
            Assert.Equal("urn:credentials:quota-exceeded", problem["type"]!.GetValue<string>());
            Assert.Contains("Limits:MaxOrgImageBytes", problem["detail"]!.GetValue<string>());
        }
    }
}

public sealed class FileRenditionQuotaTests() : RenditionQuotaTests(Backend.Sqlite);

public sealed class PostgreSqlRenditionQuotaTests() : RenditionQuotaTests(Backend.PostgreSql);
