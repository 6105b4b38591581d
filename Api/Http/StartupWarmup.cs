using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Credentials.Api.Contracts;
using Credentials.Api.Extensions;
using Credentials.Grains;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Http;

/// <summary>
/// Warms a fresh process before readiness says yes (issue 12: a new node answered at a fraction
/// of its warm rate for its first seconds while the JIT, the thread pool and the grain call path
/// came up under load). For at most <see cref="ApiOptions.WarmupSeconds"/> it runs, a few lanes at
/// a time, the hot path's parts that need no data and no credential: a request through the HTTP
/// pipeline over loopback (<c>/healthz</c>), an issuer-page grain call for an org key that no
/// client can create (a miss, which still reads the store), and the serialisation of a synthetic issuer page. It changes no
/// state; answers are the same with or without it.
/// </summary>
public sealed class StartupWarmup(IServer server, IGrainFactory grains, IOptions<JsonOptions> json, IOptions<ApiOptions> options, ILogger<StartupWarmup> logger)
{
    /// <summary>A grain key no client can create or name (<see cref="OrgKeys"/> refuses the leading underscore): always a miss.</summary>
    internal const string OrgKey = "_warm-up";
    private const int Lanes = 8;
    private const int MaxRounds = 400;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsDone => _done.Task.IsCompleted;

    /// <summary>Rounds of the hot path run so far.</summary>
    public int Rounds => Volatile.Read(ref _rounds);
    private int _rounds;
    private bool _loopbackWorks = true;

    public Task Completion => _done.Task;

    /// <summary>Starts the warm-up in the background (once the server listens).</summary>
    public void Start(CancellationToken stopping) => _ = Task.Run(() => RunAsync(stopping), CancellationToken.None);

    private async Task RunAsync(CancellationToken stopping)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var budget = TimeSpan.FromSeconds(options.Value.WarmupSeconds);
            if (budget <= TimeSpan.Zero) return;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            deadline.CancelAfter(budget);
            using var http = LoopbackClient();
            var (page, issuers) = SyntheticPage();
            var serializer = json.Value.SerializerOptions;
            await Parallel.ForAsync(0, MaxRounds, new ParallelOptions { MaxDegreeOfParallelism = Lanes, CancellationToken = deadline.Token }, async (_, token) =>
            {
                if (http is not null && Volatile.Read(ref _loopbackWorks))
                {
                    try
                    {
                        using var response = await http.GetAsync("healthz", token);
                        await response.Content.CopyToAsync(Stream.Null, token);
                    }
                    catch (HttpRequestException ex)
                    {
                        // An address the server reports but does not listen on (a test server, a
                        // proxy-only binding): warm the rest of the path without the loopback hop.
                        if (Interlocked.Exchange(ref _loopbackWorks, false))
                            logger.LogInformation("Warm-up: no loopback request ({Reason}).", ex.Message);
                    }
                }
                // Both calls a list read makes: the first read of a page, and a repeated one.
                var grain = grains.GetOrgGrain(OrgKey);
                await grain.ListIssuers(null, 0, Paging.DefaultLimit);
                await grain.ListIssuersUnlessUnchanged(null, 0, Paging.DefaultLimit, knownVersion: 1);
                await JsonSerializer.SerializeAsync(Stream.Null, page, serializer, token);
                IssuerPageCache.Serialize(issuers, OrgKey, serializer);
                Interlocked.Increment(ref _rounds);
            });
        }
        catch (OperationCanceledException) { }
        catch (Exception ex)
        {
            // A failed warm-up only costs speed: readiness does not wait for it again.
            logger.LogWarning(ex, "The start-up warm-up failed after {Rounds} rounds.", Rounds);
        }
        finally
        {
            logger.LogInformation("Warm-up: {Rounds} rounds in {Elapsed} ms.", Rounds, clock.ElapsedMilliseconds);
            _done.TrySetResult();
        }
    }

    /// <summary>A client for the server's first HTTP address, on loopback; none under a test server.</summary>
    private HttpClient? LoopbackClient()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses
            .Select(a => Uri.TryCreate(a.Replace("://+", "://localhost").Replace("://*", "://localhost").Replace("://[::]", "://localhost").Replace("://0.0.0.0", "://localhost"), UriKind.Absolute, out var uri) ? uri : null)
            .FirstOrDefault(uri => uri is { Scheme: "http" });
        if (address is null) return null;
        var loopback = new UriBuilder(address) { Host = IPAddress.Loopback.ToString() }.Uri;
        return new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = Lanes }) { BaseAddress = loopback, Timeout = TimeSpan.FromSeconds(5) };
    }

    private static (Envelope<IssuerList> Page, Issuer[] Issuers) SyntheticPage()
    {
        var signatories = new Dictionary<string, string> { ["name"] = "Warm-up" };
        var issuers = Enumerable.Range(0, Paging.DefaultLimit).Select(i =>
            new Issuer($"warm-up-{i}", $"Warm-up issuer {i}", "warm-up@example.org", "https://example.org", null, ["tag"], signatories)).ToArray();
        var items = issuers.Select(issuer => IssuerView.From(OrgKey, issuer)).ToArray();
        return (new Envelope<IssuerList>(Status.Ok, new IssuerList(null, null, items.Length, items, 1, 1, Paging.MaxLimit)), issuers);
    }
}

/// <summary>
/// Not ready until the start-up warm-up has finished (it is bounded in time). Degraded, not
/// Unhealthy: readiness still says no, but the health service logs a warning, not an error.
/// </summary>
public sealed class WarmupHealthCheck(StartupWarmup warmup) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(warmup.IsDone ? HealthCheckResult.Healthy() : HealthCheckResult.Degraded("Warming up."));
}
