using System.Diagnostics;
using System.Net;
using Credentials.Api.Http;
using Credentials.Grains;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Credentials.Tests.Api;

/// <summary>
/// The start-up warm-up (issue 12): readiness waits for it, it runs the hot path, and it changes
/// no answer. How much faster a fresh node gets is a benchmark figure (bench ramp), not a test.
/// </summary>
public sealed class StartupWarmupTests
{
    [Fact]
    public async Task A_node_is_ready_only_after_its_warm_up_ran_and_it_then_answers_as_without_one()
    {
        await using var factory = new ApiFactory();
        factory.Settings["Api:WarmupSeconds"] = "10";
        var admin = factory.AdminClient();
        var warmup = factory.Services.GetRequiredService<StartupWarmup>();

        await warmup.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(warmup.Rounds >= StartupWarmup.MinRounds, $"the warm-up ran {warmup.Rounds} rounds");
        // Its issuer pages went through the whole pipeline (authorization, filters, the list
        // endpoint) and were answered 200 from the page it showed on the local board.
        Assert.Equal(0, warmup.PipelineRefusals);
        Assert.True(warmup.PipelineReads >= StartupWarmup.MinRounds, $"{warmup.PipelineReads} in-process reads");
        await WaitReadyAsync(admin, TimeSpan.FromSeconds(15));

        // It left nothing behind: no page kept, no org shown, no platform.
        Assert.Equal(0, factory.Services.GetRequiredService<IssuerPageCache>().Bytes);
        var platforms = await (await admin.GetAsync("/api/platforms/?limit=1000")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("warm-up", platforms);

        // The warm-up's key is no org, and an org's page holds exactly its own issuers.
        var grains = factory.Services.GetRequiredService<IGrainFactory>();
        Assert.False((await grains.GetGrain<IOrgGrain>(StartupWarmup.OrgKey).ListIssuers(null, 0, 50)).Succeeded);
        var org = await admin.CreatePlatformAsync();
        await admin.CreateIssuerAsync(org, new { name = "Only issuer" });
        var page = await (await admin.GetAsync(TestRequests.Issuers(org))).JsonAsync();
        Assert.Equal(1, page["result"]!["count"]!.GetValue<int>());
        Assert.Equal("Only issuer", page["result"]!["data"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_warm_up_draws_on_no_credential_s_rate_budget()
    {
        await using var factory = new ApiFactory();
        factory.Settings["Api:WarmupSeconds"] = "10";
        factory.Settings["RateLimiting:Enabled"] = "true";
        factory.Settings["RateLimiting:Burst"] = "5";
        factory.Settings["RateLimiting:PermitsPerSecond"] = "1";
        var admin = factory.AdminClient();
        var warmup = factory.Services.GetRequiredService<StartupWarmup>();

        await warmup.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, warmup.PipelineRefusals);
        Assert.True(warmup.PipelineReads > 5, $"only {warmup.PipelineReads} in-process reads");

        // Hundreds of super-admin reads ran in process; the super-admin's burst of 5 is still whole.
        for (var i = 0; i < 5; i++)
        {
            var answer = await admin.GetAsync("/api/platforms/");
            Assert.True(answer.IsSuccessStatusCode, $"call {i + 1}: {(int)answer.StatusCode}");
        }
        // And the limit is on: more calls than one permit a second soon meet a 429.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20 && !statuses.Contains(HttpStatusCode.TooManyRequests); i++) statuses.Add((await admin.GetAsync("/api/platforms/")).StatusCode);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Fact]
    public async Task A_failing_in_process_read_is_tried_once_and_the_warm_up_goes_on()
    {
        await using var factory = new ApiFactory();
        _ = factory.AdminClient();
        var services = factory.Services;
        var warmup = NewWarmup(services, new Credentials.Api.Extensions.ApiOptions { WarmupSeconds = 5 });
        var calls = 0;
        warmup.Pipeline = context =>
        {
            Interlocked.Increment(ref calls);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return Task.CompletedTask;
        };

        warmup.Start(CancellationToken.None);
        await warmup.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(warmup.Rounds >= StartupWarmup.MinRounds, $"the warm-up ran {warmup.Rounds} rounds");
        Assert.Equal(0, warmup.PipelineReads);
        // Lanes already inside a round may each have tried it once; no later round does.
        Assert.InRange(warmup.PipelineRefusals, 1, 8);
        Assert.Equal(warmup.PipelineRefusals, calls);
    }

    [Fact]
    public async Task Readiness_reports_a_warm_up_that_has_not_finished()
    {
        await using var factory = new ApiFactory();
        _ = factory.AdminClient();
        var services = factory.Services;
        // Never started: as a node between its server's start and the warm-up's end.
        var pending = NewWarmup(services, services.GetRequiredService<IOptions<Credentials.Api.Extensions.ApiOptions>>().Value);

        var verdict = await new WarmupHealthCheck(pending).CheckHealthAsync(new HealthCheckContext());

        Assert.NotEqual(HealthStatus.Healthy, verdict.Status);
        Assert.Equal("Warming up.", verdict.Description);

        // And /readyz says no (503), not "Degraded" with a 200 as for a silent database.
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = services };
        var answer = await Credentials.Api.Apis.HealthApi.Ready(services.GetRequiredService<ReadinessProbe>(), pending, context);
        var problem = Assert.IsType<Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult>(answer.Result);
        Assert.Equal(503, problem.StatusCode);
        Assert.Contains("warm-up", problem.ProblemDetails.Detail);

        // The node's own warm-up, once done, lets it answer 200.
        var own = services.GetRequiredService<StartupWarmup>();
        await own.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        var ready = await Credentials.Api.Apis.HealthApi.Ready(services.GetRequiredService<ReadinessProbe>(), own, new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = services });
        Assert.IsType<Microsoft.AspNetCore.Http.HttpResults.ContentHttpResult>(ready.Result);
    }

    /// <summary>A warm-up of the factory's services other than its own (which tests start or not).</summary>
    private static StartupWarmup NewWarmup(IServiceProvider services, Credentials.Api.Extensions.ApiOptions options) =>
        new(services.GetRequiredService<IServer>(), services, services.GetRequiredService<IOptions<JsonOptions>>(), Options.Create(options),
            NullLogger<StartupWarmup>.Instance);

    private static async Task WaitReadyAsync(HttpClient client, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        HttpStatusCode status;
        while ((status = (await client.GetAsync("/readyz")).StatusCode) != HttpStatusCode.OK)
        {
            Assert.True(clock.Elapsed < timeout, $"/readyz still answered {(int)status} after {timeout.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }
}
