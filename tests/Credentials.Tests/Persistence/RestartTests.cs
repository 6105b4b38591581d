using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Persistence;

/// <summary>
/// The embedded service stopped and started again over the same data: everything acknowledged
/// over HTTP is still there. Run on both backends.
/// </summary>
public abstract class RestartTests(Backend backend)
{
    [Fact]
    public async Task Issuers_acknowledged_before_a_restart_are_served_after_it()
    {
        var first = new ApiFactory(backend);
        string org;
        JsonNode before;
        await using (first)
        {
            var client = first.AdminClient();
            org = await client.CreatePlatformAsync();
            await Task.WhenAll(Enumerable.Range(0, 60).Select(i => client.CreateIssuerAsync(org, new
            {
                name = $"Before restart {i:D2} – Ünïcödé",
                email = $"issuer{i}@example.org",
                allowed_template_tags = new[] { "a", "b" },
                signatories = new Dictionary<string, string> { ["dean"] = "Dr. Ädä" },
            })));
            var put = await client.PutAsJsonAsync(TestRequests.Issuers(org) + (await client.CreateIssuerAsync(org, new { name = "Replaced", entityId = "kept" }))["entityId"] + "/", new { name = "Replacement" });
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            before = await (await client.GetAsync(TestRequests.Issuers(org) + "?limit=1000")).JsonAsync();
        }

        await using var second = first.Restarted();
        var after = await (await second.AdminClient().GetAsync(TestRequests.Issuers(org) + "?limit=1000")).JsonAsync();

        Assert.Equal(61, after["result"]!["count"]!.GetValue<int>());
        Assert.Equal(before["result"]!["data"]!.ToJsonString(), after["result"]!["data"]!.ToJsonString());
        var kept = await (await second.AdminClient().GetAsync(TestRequests.Issuers(org) + "kept/")).JsonAsync();
        Assert.Equal("Replacement", kept[0]!["name"]!.GetValue<string>());
    }
}

public sealed class SqliteRestartTests() : RestartTests(Backend.Sqlite);

public sealed class PostgreSqlRestartTests() : RestartTests(Backend.PostgreSql);
