using System.Net;
using System.Net.Http.Headers;
using Credentials.Grains.Hosting;
using Credentials.Tests.Auth;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using static Credentials.Tests.Infrastructure.TestRequests;

namespace Credentials.Tests.Telemetry;

/// <summary>The access log and the log scopes, read from a capturing logger; the console format settings.</summary>
public sealed class AccessLogTests
{
    private const string AccessLogCategory = "Credentials.Api.Http.AccessLog";
    private const string QuerySecret = "query-secret-0123456789";

    [Fact]
    public async Task Each_request_has_one_access_line_with_its_route_template_and_no_credential()
    {
        var capture = new LogCapture();
        await using var service = new ApiFactory();
        await using var factory = service.WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Logging:LogLevel:Default", "Information");
            // Routing logs inside the request's scopes; ASP.NET Core's hosting lines stay at the shipped
            // level (Warning): at Information they would show full URLs, query strings included.
            builder.UseSetting("Logging:LogLevel:Microsoft.AspNetCore.Routing", "Debug");
            builder.ConfigureLogging(logging => logging.AddProvider(capture));
        });
        var admin = factory.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Api-Token", ApiFactory.AdminToken);
        var org = NewOrg();
        var jwt = Auth.Credentials.Jwt(org, "student-1");

        async Task<string> Send(HttpMethod method, string url, HttpContent? content = null, string? bearer = null, HttpStatusCode expected = HttpStatusCode.OK)
        {
            var id = "req-" + Guid.NewGuid().ToString("N");
            var request = new HttpRequestMessage(method, url) { Content = content };
            request.Headers.Add("X-Request-Id", id);
            if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            var response = await (bearer is null ? admin : factory.CreateClient()).SendAsync(request);
            Assert.Equal(expected, response.StatusCode);
            return id;
        }

        var created = await Send(HttpMethod.Post, "/api/platforms/", JsonBody($$"""{"key":"{{org}}"}"""), expected: HttpStatusCode.Created);
        var posted = await Send(HttpMethod.Post, Issuers(org) + "?access_token=" + QuerySecret, JsonBody("""{"name":"Logged"}"""));
        var listed = await Send(HttpMethod.Get, Issuers(org, "student-1") + "?q=Log", bearer: jwt);
        var missing = await Send(HttpMethod.Get, "/no/such/route", expected: HttpStatusCode.NotFound);

        LogCapture.Entry Line(string id) => Assert.Single(capture.Entries,
            e => e.Category == AccessLogCategory && e.State.GetValueOrDefault("RequestId") as string == id);
        var post = Line(posted);
        Assert.Equal(LogLevel.Information, post.Level);
        Assert.Equal("POST", post.State["Method"]);
        Assert.Equal("/api/credentials/orgs/{org}/users/{user_id}/issuers/", post.State["Route"]);
        Assert.Equal(200, post.State["Status"]);
        Assert.True((double)post.State["DurationMs"]! > 0);
        Assert.Equal(org, post.State["Org"]);
        Assert.Equal("GET", Line(listed).State["Method"]);
        Assert.Equal(org, Line(listed).State["Org"]);
        Assert.Equal("/api/platforms/", Line(created).State["Route"]);
        Assert.Equal(201, Line(created).State["Status"]);
        Assert.Equal(404, Line(missing).State["Status"]);
        Assert.Equal("(unmatched)", Line(missing).State["Route"]);

        // Lines written while serving a request carry its X-Request-Id and org in their scopes.
        var scopes = string.Join("\n", capture.Entries.Where(e => e.Category.StartsWith("Microsoft.AspNetCore.Routing", StringComparison.Ordinal))
            .Select(e => e.Message + ": " + string.Join("; ", e.Scopes.SelectMany(s => s).Select(kv => $"{kv.Key}={kv.Value}"))));
        Assert.True(capture.Entries.Any(e => e.Category != AccessLogCategory
            && e.Scope("X-Request-Id") as string == posted && e.Scope("Org") as string == org), scopes);
        Assert.Equal(posted, post.Scope("X-Request-Id"));

        var everything = string.Join("\n", capture.Entries.Select(e =>
            e.Message + " " + string.Join(" ", e.State.Values) + " " + string.Join(" ", e.Scopes.SelectMany(s => s.Values))));
        Assert.DoesNotContain(ApiFactory.AdminToken, everything);
        Assert.DoesNotContain(jwt, everything);
        Assert.DoesNotContain(QuerySecret, everything);
    }

    [Theory]
    [InlineData(true, null, ConsoleFormatterNames.Json)]
    [InlineData(false, null, ConsoleFormatterNames.Simple)]
    [InlineData(false, "json", "json")]
    [InlineData(true, "simple", "simple")]
    public void Console_logs_are_json_in_cluster_roles_unless_the_setting_chooses(bool clusterRole, string? chosen, string expected)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (chosen is not null) builder.Configuration["Logging:Console:FormatterName"] = chosen;
        builder.AddCredentialsTelemetry("test", clusterRole);
        using var host = builder.Build();
        Assert.Equal(expected, host.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
        Assert.True(host.Services.GetRequiredService<IOptionsMonitor<JsonConsoleFormatterOptions>>().CurrentValue.IncludeScopes);
    }

    [Theory]
    [InlineData("Logging:Console:FormatterName", "xml")]
    [InlineData("Telemetry:MaxOrgTags", "-1")]
    [InlineData("Telemetry:MaxOrgTags", "10001")]
    [InlineData("Telemetry:PrometheusPort", "70000")]
    public void A_setting_out_of_range_stops_start_up_naming_it(string key, string value)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration[key] = value;
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddCredentialsTelemetry("test", jsonLogs: false));
        Assert.Contains(key, error.Message);
    }
}
