using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Credentials.Tests.Infrastructure;

namespace Credentials.Tests.Api;

/// <summary>B4: one issuer — its shape, PUT (replace), PATCH (partial), DELETE and 404s.</summary>
[Collection(ApiCollection.Name)]
public sealed class IssuerResourceTests(SqliteApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Factory.AdminClient();

    private static readonly object Full = new
    {
        name = "Full Issuer",
        entityId = "it",
        email = "dean@example.com",
        url = "https://example.com",
        iconImage = "https://example.com/icon.png",
        allowed_template_tags = new[] { "diploma" },
        signatories = new Dictionary<string, string> { ["Dean"] = "Dr. Full" },
    };

    [Fact]
    public async Task Get_answers_the_issuer_as_a_one_element_array_with_every_field_present()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Sparse", entityId = "sparse" });

        var response = await _client.GetAsync(TestRequests.Issuer(org, "sparse"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            $$$"""[{"name":"Sparse","org":"{{{org}}}","entityId":"sparse","signatories":{},"url":null,"iconImage":null,"email":null,"allowed_template_tags":null}]""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Put_returns_every_field_it_does_not_send_to_its_default()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, Full);

        var response = await _client.PutJsonAsync(TestRequests.Issuer(org, "it"), """{"name":"Replaced"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = $$$"""[{"name":"Replaced","org":"{{{org}}}","entityId":"it","signatories":{},"url":null,"iconImage":null,"email":null,"allowed_template_tags":null}]""";
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
        Assert.Equal(expected, "[" + (await _client.ReadIssuerAsync(org, "it")).ToJsonString() + "]");
    }

    [Fact]
    public async Task Put_requires_a_name_and_leaves_the_issuer_unchanged_without_one()
    {
        var org = await _client.CreatePlatformAsync();
        var before = await _client.CreateIssuerAsync(org, Full);

        var response = await _client.PutJsonAsync(TestRequests.Issuer(org, "it"), """{"email":"other@example.com"}""");

        Assert.Equal(["name"], await response.ErrorFieldsAsync());
        Assert.Equal(before.ToJsonString(), (await _client.ReadIssuerAsync(org, "it")).ToJsonString());
    }

    public static TheoryData<string> EntityIdsInBody => new() { "\"other\"", "\"bad id!\"", "\"\"", "null", "42", """["other"]""" };

    [Theory, MemberData(nameof(EntityIdsInBody))]
    public async Task Put_and_patch_ignore_an_entity_id_in_the_body(string entityId)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Original", entityId = "it" });

        var put = await _client.PutJsonAsync(TestRequests.Issuer(org, "it"), $$"""{"name":"Put","entityId":{{entityId}}}""");
        Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        Assert.Equal("it", (await put.JsonAsync())[0]!["entityId"]!.GetValue<string>());
        var patch = await _client.PatchJsonAsync(TestRequests.Issuer(org, "it"), $$"""{"name":"Patched","entityId":{{entityId}}}""");
        Assert.True(patch.StatusCode == HttpStatusCode.OK, await patch.Content.ReadAsStringAsync());
        Assert.Equal("it", (await patch.JsonAsync())[0]!["entityId"]!.GetValue<string>());

        Assert.Equal("Patched", (await _client.ReadIssuerAsync(org, "it"))["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(TestRequests.Issuer(org, "other"))).StatusCode);
        Assert.Equal(1, (await _client.ListIssuersAsync(org))["result"]!["count"]!.GetValue<int>());
    }

    /// <summary>field, new value (JSON), the value then read back (JSON).</summary>
    public static TheoryData<string, string, string> PatchOfOneField => new()
    {
        { "name", "\"  New name  \"", "\"New name\"" },
        { "email", "\"new@example.com\"", "\"new@example.com\"" },
        { "email", "null", "null" },
        { "email", "\"\"", "null" },
        { "url", "\"https://new.example.com\"", "\"https://new.example.com\"" },
        { "url", "null", "null" },
        { "iconImage", "\"https://new.example.com/i.png\"", "\"https://new.example.com/i.png\"" },
        { "iconImage", "null", "null" },
        { "allowed_template_tags", """["x","y"]""", """["x","y"]""" },
        { "allowed_template_tags", "[]", "[]" },
        { "allowed_template_tags", "null", "null" },
        { "signatories", """{"Rector":"Prof. New"}""", """{"Rector":"Prof. New"}""" },
        { "signatories", "{}", "{}" },
        { "signatories", "null", "{}" },
    };

    [Theory, MemberData(nameof(PatchOfOneField))]
    public async Task Patch_changes_only_the_field_sent(string field, string value, string stored)
    {
        var org = await _client.CreatePlatformAsync();
        var before = await _client.CreateIssuerAsync(org, Full);

        var response = await _client.PatchJsonAsync(TestRequests.Issuer(org, "it"), $$"""{"{{field}}":{{value}}}""");

        var json = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, json);
        before[field] = JsonNode.Parse(stored);
        Assert.Equal(before.ToJsonString(), Assert.Single(JsonNode.Parse(json)!.AsArray())!.ToJsonString());
        Assert.Equal(before.ToJsonString(), (await _client.ReadIssuerAsync(org, "it")).ToJsonString());
    }

    [Fact]
    public async Task Patch_of_an_empty_object_changes_nothing()
    {
        var org = await _client.CreatePlatformAsync();
        var before = await _client.CreateIssuerAsync(org, Full);

        var response = await _client.PatchJsonAsync(TestRequests.Issuer(org, "it"), "{}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before.ToJsonString(), (await _client.ReadIssuerAsync(org, "it")).ToJsonString());
    }

    [Theory]
    [InlineData("null")]
    [InlineData("\"\"")]
    [InlineData("\"   \"")]
    [InlineData("7")]
    public async Task Patch_cannot_remove_or_blank_the_name(string name)
    {
        var org = await _client.CreatePlatformAsync();
        var before = await _client.CreateIssuerAsync(org, Full);

        var response = await _client.PatchJsonAsync(TestRequests.Issuer(org, "it"), $$"""{"name":{{name}},"email":"changed@example.com"}""");

        Assert.Equal(["name"], await response.ErrorFieldsAsync());
        Assert.Equal(before.ToJsonString(), (await _client.ReadIssuerAsync(org, "it")).ToJsonString());
    }

    [Fact]
    public async Task Delete_answers_the_deleted_envelope_and_the_issuer_is_gone_everywhere()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, Full);
        await _client.CreateIssuerAsync(org, new { name = "Stays", entityId = "stays" });

        var response = await _client.DeleteAsync(TestRequests.Issuer(org, "it"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"status":{"success":true,"description":"Deleted"}}""", await response.Content.ReadAsStringAsync());
        var list = await _client.ListIssuersAsync(org);
        Assert.Equal(1, list["result"]!["count"]!.GetValue<int>());
        Assert.Equal(["Stays"], list.Names());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.DeleteAsync(TestRequests.Issuer(org, "it"))).StatusCode);
    }

    public static TheoryData<string> Methods => new() { "GET", "PUT", "PATCH", "DELETE" };

    [Theory, MemberData(nameof(Methods))]
    public async Task A_missing_entity_id_is_a_404_problem(string method)
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, new { name = "Present", entityId = "present" });
        await _client.CreateIssuerAsync(org, new { name = "Deleted", entityId = "deleted" });
        await _client.DeleteAsync(TestRequests.Issuer(org, "deleted"));

        foreach (var entityId in new[] { "absent", "PRESENT", "deleted", "not.a.valid.id" })
        {
            var content = method is "PUT" or "PATCH" ? TestRequests.JsonBody("""{"name":"Ghost"}""") : null;
            var response = await _client.SendAsync(new HttpMethod(method), TestRequests.Issuer(org, entityId), content);

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            await response.ProblemAsync();
        }
        Assert.Equal(["Present"], (await _client.ListIssuersAsync(org)).Names());
    }

    [Fact]
    public async Task Put_patch_and_delete_work_without_the_trailing_slash()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, Full);
        var url = TestRequests.Issuer(org, "it").TrimEnd('/');

        Assert.Equal(HttpStatusCode.OK, (await _client.PutJsonAsync(url, """{"name":"Put"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.PatchJsonAsync(url, """{"email":"p@example.com"}""")).StatusCode);
        Assert.Equal("Put", (await _client.ReadIssuerAsync(org, "it"))["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await _client.DeleteAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(url)).StatusCode);
    }

    [Fact]
    public async Task Put_and_patch_answer_the_changed_issuer_as_a_one_element_array()
    {
        var org = await _client.CreatePlatformAsync();
        await _client.CreateIssuerAsync(org, Full);

        var put = await (await _client.PutAsJsonAsync(TestRequests.Issuer(org, "it"), new { name = "Put" })).JsonAsync();
        var patch = await (await _client.PatchAsJsonAsync(TestRequests.Issuer(org, "it"), new { email = "p@example.com" })).JsonAsync();

        Assert.Equal("Put", Assert.Single(put.AsArray())!["name"]!.GetValue<string>());
        var patched = Assert.Single(patch.AsArray())!;
        Assert.Equal("Put", patched["name"]!.GetValue<string>());
        Assert.Equal("p@example.com", patched["email"]!.GetValue<string>());
    }
}
