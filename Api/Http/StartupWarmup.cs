using System.Diagnostics;
using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Credentials.Api.Auth;
using Credentials.Api.Contracts;
using Credentials.Api.Extensions;
using Credentials.Grains;
using Credentials.Grains.Issuers;
using Credentials.Grains.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Http;

/// <summary>
/// Warms a fresh process before readiness says yes (issue 12: a new node answered at a fraction
/// of its warm rate for its first seconds while the JIT, the thread pool and the grain call path
/// came up under load). For at most <see cref="ApiOptions.WarmupSeconds"/> it runs, a few lanes at
/// a time, the hot path without data or credentials from outside:
/// <list type="bullet">
/// <item>a request through Kestrel over loopback (<c>/healthz</c>);</item>
/// <item>an issuer-page read through the whole middleware pipeline and the list endpoint, in
/// process (<see cref="Pipeline"/>): its caller is set before the pipeline runs, which no network
/// request can do, and its org key is drawn at random per process with a synthetic page shown
/// only for the warm-up (<see cref="LocalIssuerVersions.ShowWhile"/>); such requests are not
/// logged or counted (<see cref="IsWarmupRequest"/>);</item>
/// <item>the hash and comparison that check a presented token;</item>
/// <item>the issuer-page grain calls for an org key that no client can create (a miss, which still
/// reads the store), and the serialisation of a synthetic issuer page.</item>
/// </list>
/// It goes on until the JIT has settled: the hot methods' optimised (tier-1) code, which the
/// runtime compiles in the background once they have run enough, is then in place instead of being
/// compiled while the first clients wait. It changes no state; answers are the same with or without it.
/// </summary>
public sealed class StartupWarmup(
    IServer server,
    IServiceProvider services,
    IOptions<JsonOptions> json,
    IOptions<ApiOptions> options,
    ILogger<StartupWarmup> logger)
{
    /// <summary>A grain key no client can create or name (<see cref="OrgKeys"/> refuses the leading underscore): always a miss.</summary>
    internal const string OrgKey = "_warm-up";
    private const int Lanes = 8;
    /// <summary>Rounds run at full width first (each hot method is then well past the JIT's promotion count of 30).</summary>
    internal const int MinRounds = 400;
    /// <summary>The JIT has settled once it compiled fewer than this many methods in <see cref="SettleWindow"/>.</summary>
    private const int SettledMethods = 32;
    private static readonly TimeSpan SettleWindow = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SettleStep = TimeSpan.FromMilliseconds(100);

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _rounds;
    private int _pipelineReads;
    private int _pipelineRefusals;
    private bool _loopbackWorks = true;
    private bool _pipelineWorks = true;

    public bool IsDone => _done.Task.IsCompleted;

    /// <summary>Rounds of the hot path run so far.</summary>
    public int Rounds => Volatile.Read(ref _rounds);

    /// <summary>Issuer pages read in process through the whole pipeline, each answered 200.</summary>
    public int PipelineReads => Volatile.Read(ref _pipelineReads);

    /// <summary>In-process issuer-page reads answered anything but 200 (none where this process is the only silo).</summary>
    public int PipelineRefusals => Volatile.Read(ref _pipelineRefusals);

    public Task Completion => _done.Task;

    /// <summary>
    /// The application's middleware pipeline after the point where <see cref="Extensions.UseCredentialsPipeline"/>
    /// hands it over; null when there is none (then the in-process page read is skipped).
    /// </summary>
    public RequestDelegate? Pipeline { get; set; }

    /// <summary>True for the warm-up's own in-process requests (which only this process can make).</summary>
    public static bool IsWarmupRequest(HttpContext context) => context.Features.Get<WarmupRequest>() is not null;

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
            var serializer = json.Value.SerializerOptions;
            // Its page and board entries only where there is a pipeline to read them through.
            using var read = Pipeline is null ? null : new SyntheticRead(services, serializer);
            var (page, issuers) = SyntheticPage();
            var grain = services.GetRequiredService<IGrainFactory>().GetOrgGrain(OrgKey);
            var admin = services.GetRequiredService<AdminToken>();
            var probeToken = "warm-up-" + Guid.NewGuid().ToString("N");

            async Task RoundAsync(CancellationToken token)
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
                if (read is not null && Pipeline is { } pipeline && Volatile.Read(ref _pipelineWorks))
                {
                    var status = await read.RunAsync(pipeline);
                    if (status == StatusCodes.Status200OK) Interlocked.Increment(ref _pipelineReads);
                    else Interlocked.Increment(ref _pipelineRefusals);
                    // A 404 is the read where another silo holds the orgs; a server error would be
                    // logged on every round: one is enough, the rest of the warm-up goes on without.
                    if (status >= StatusCodes.Status500InternalServerError && Interlocked.Exchange(ref _pipelineWorks, false))
                        logger.LogWarning("Warm-up: the in-process issuer page read answered {Status}; the warm-up goes on without it.", status);
                }
                // The credential check the in-process read skips (its caller is set, not presented).
                _ = admin.Matches(Grains.ApiTokens.Hash(probeToken)) || Grains.ApiTokens.OrgOf(probeToken) is not null;
                // Both calls a list read makes: the first read of a page, and a repeated one.
                await grain.ListIssuers(null, 0, Paging.DefaultLimit);
                await grain.ListIssuersUnlessUnchanged(null, 0, Paging.DefaultLimit, knownVersion: 1);
                await JsonSerializer.SerializeAsync(Stream.Null, page, serializer, token);
                IssuerPageCache.Serialize(issuers, OrgKey, serializer);
                Interlocked.Increment(ref _rounds);
            }

            // Full width until every hot method ran many times, then one lane (leaving the other
            // cores to the JIT's background compilation) until the JIT has gone quiet.
            await Parallel.ForAsync(0, MinRounds, new ParallelOptions { MaxDegreeOfParallelism = Lanes, CancellationToken = deadline.Token },
                async (_, token) => await RoundAsync(token));
            var compiled = new Queue<long>();
            var window = (int)(SettleWindow / SettleStep);
            var step = Stopwatch.StartNew();
            while (true)
            {
                await RoundAsync(deadline.Token);
                if (step.Elapsed < SettleStep) continue;
                step.Restart();
                compiled.Enqueue(System.Runtime.JitInfo.GetCompiledMethodCount());
                if (compiled.Count > window + 1) compiled.Dequeue();
                if (compiled.Count == window + 1 && compiled.Last() - compiled.Peek() < SettledMethods) break;
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception ex)
        {
            // A failed warm-up only costs speed: readiness does not wait for it again.
            logger.LogWarning(ex, "The start-up warm-up failed after {Rounds} rounds.", Rounds);
        }
        finally
        {
            // Refusals are expected where another silo holds the orgs (client mode: the random org is a 404).
            logger.LogInformation("Warm-up: {Rounds} rounds, {PipelineReads} issuer pages through the pipeline ({PipelineRefusals} refused), in {Elapsed} ms.",
                Rounds, PipelineReads, PipelineRefusals, clock.ElapsedMilliseconds);
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

    private static Issuer[] SyntheticIssuers(string idPrefix) => Enumerable.Range(0, Paging.DefaultLimit).Select(i =>
        new Issuer($"{idPrefix}-{i}", $"Warm-up issuer {i}", "warm-up@example.org", "https://example.org", null, ["tag"],
            new Dictionary<string, string> { ["name"] = "Warm-up" })).ToArray();

    private static (Envelope<IssuerList> Page, Issuer[] Issuers) SyntheticPage()
    {
        var issuers = SyntheticIssuers("warm-up");
        var items = issuers.Select(issuer => IssuerView.From(OrgKey, issuer)).ToArray();
        return (new Envelope<IssuerList>(Status.Ok, new IssuerList(null, null, items.Length, items, 1, 1, Paging.MaxLimit)), issuers);
    }

    /// <summary>Marks the warm-up's own requests (a feature only code in this process can set).</summary>
    private sealed class WarmupRequest;

    /// <summary>
    /// The issuer-page read a client makes, run in process: an org key drawn at random for this
    /// process, its synthetic page in the page cache and shown on the local board (where the
    /// process is the only silo; elsewhere the page's grain call is a miss, answered 404), and a
    /// super-admin caller set on the request itself. Undone when disposed.
    /// </summary>
    private sealed class SyntheticRead : IDisposable
    {
        private static readonly WarmupRequest Marker = new();
        private readonly IServiceScopeFactory _scopes;
        private readonly IssuerPageCache _pages;
        private readonly IssuerPageCache.Key _key;
        private readonly IDisposable _shown;
        private readonly string _path;
        private readonly ClaimsPrincipal _caller = new(new ClaimsIdentity(
            [new Claim(CredentialClaims.Kind, CredentialClaims.SuperAdmin)], ApiTokenAuthenticationHandler.SchemeName));

        public SyntheticRead(IServiceProvider services, JsonSerializerOptions json)
        {
            _scopes = services.GetRequiredService<IServiceScopeFactory>();
            _pages = services.GetRequiredService<IssuerPageCache>();
            var org = "warm-up-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            var issuers = new ChunkedCollection<Issuer>("warm-up", issuer => issuer.EntityId, _ => 1);
            _key = new IssuerPageCache.Key(org, null, 0, Paging.DefaultLimit);
            var items = SyntheticIssuers(org);
            _pages.Add(_key, new IssuerPage(items.Length, items, null, issuers.Version), org, json);
            _shown = services.GetRequiredService<LocalIssuerVersions>().ShowWhile(org, issuers);
            _path = $"/api/credentials/orgs/{org}/users/warm-up/issuers/";
        }

        /// <summary>Runs one read through <paramref name="pipeline"/> and returns its status.</summary>
        public async Task<int> RunAsync(RequestDelegate pipeline)
        {
            var features = new FeatureCollection();
            features.Set<IHttpRequestFeature>(new HttpRequestFeature
            {
                Method = HttpMethods.Get, Scheme = "http", Protocol = "HTTP/1.1", Path = _path, QueryString = "?limit=50",
                Headers = new HeaderDictionary { ["Host"] = "localhost", ["Accept"] = "application/json" },
            });
            features.Set<IHttpResponseFeature>(new HttpResponseFeature());
            features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
            features.Set<IHttpConnectionFeature>(new HttpConnectionFeature { RemoteIpAddress = IPAddress.Loopback, LocalIpAddress = IPAddress.Loopback });
            features.Set(Marker);
            await using var scope = _scopes.CreateAsyncScope();
            var context = new DefaultHttpContext(features) { RequestServices = scope.ServiceProvider, User = _caller };
            await pipeline(context);
            return context.Response.StatusCode;
        }

        public void Dispose()
        {
            _shown.Dispose();
            _pages.Remove(_key);
        }
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
