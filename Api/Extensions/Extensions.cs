using Credentials.Api.Images;
using Credentials.Api.Auth;
using Credentials.Api.Contracts;
using Credentials.Api.Http;
using Credentials.Grains.Blobs;
using Credentials.Grains.Hosting;
using Credentials.Grains.Images;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.WebUtilities;
using Orleans.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Credentials.Api.Extensions;

public static class Extensions
{
    /// <summary>Everything the API process needs: the Orleans host, auth, JSON, errors, OpenAPI, health.</summary>
    public static void AddCredentialsApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        // No "Server: Kestrel" on every answer: it tells an attacker what runs here and costs bytes.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        services.AddOptions<ApiOptions>().Bind(configuration.GetSection("Api")).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection("Auth")).ValidateDataAnnotations().ValidateOnStart();

        // Orleans, StorageSettings and ClusteringSettings are read and validated once, here.
        var topology = builder.AddOrleans();
        builder.AddApiTelemetry(topology);
        services.AddOptions<ImageLimits>().Bind(configuration.GetSection("Images")).ValidateDataAnnotations().ValidateOnStart();
        // The silo registers the same store when co-hosted; an API node in client mode needs its own.
        services.TryAddSingleton<IBlobStore>(sp => BlobStores.For(
            sp.GetRequiredService<Credentials.Grains.Storage.StorageBackend>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Configuration.ClusterOptions>>().Value.ServiceId));
        services.AddOptions<Credentials.Grains.Idempotency.IdempotencyOptions>().Bind(configuration.GetSection(Credentials.Grains.Idempotency.IdempotencyOptions.Section))
            .Validate(o => o.IsValid, Credentials.Grains.Idempotency.IdempotencyOptions.ValidationMessage).ValidateOnStart();
        services.AddOptions<MediaOptions>().Bind(configuration.GetSection("Media")).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RenditionOptions>().Bind(configuration.GetSection("Renditions")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RenditionRenderer>();
        services.AddSingleton<Renditions>();
        services.AddMediaCache(followDeletions: topology.Kind == HostKind.ClusterClient);

        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
        });
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // Framework-made errors (unknown route, wrong method) get a human detail too.
            context.ProblemDetails.Detail ??= ReasonPhrases.GetReasonPhrase(context.ProblemDetails.Status ?? 500) is { Length: > 0 } reason
                ? $"{reason}: {context.HttpContext.Request.Method} {context.HttpContext.Request.Path}"
                : "The request failed.";
        });
        services.AddExceptionHandler<StatusExceptionHandler>();
        services.AddCredentialsOpenApi();
        services.AddCredentialsAuth(configuration);
        services.AddCredentialsRateLimiting(configuration);
        services.AddSingleton<ReadinessProbe>();
        var health = services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster", tags: ["ready"]);
        // A database blip degrades the API but does not take it out of its Service: reads come from
        // grain memory and writes answer 503 on their own (docs/operations.md, "Probes").
        if (topology.ChecksDatabase) health.AddCheck<DatabaseHealthCheck>("database", HealthStatus.Degraded, tags: ["ready"]);
        services.AddSingleton<IssuerPageCache>();
        services.AddSingleton<StartupWarmup>();
        health.AddCheck<WarmupHealthCheck>("warm-up", tags: ["ready"]);

        // B6: X-Forwarded-* only from the configured proxies; from anyone else they are ignored.
        var api = configuration.GetSection("Api").Get<ApiOptions>() ?? new ApiOptions();
        RaiseThreadPoolFloor(api.MinWorkerThreadsPerCore);
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            // Walk back through every known proxy to the first address that is not one.
            options.ForwardLimit = null;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in api.Proxies()) options.KnownProxies.Add(proxy);
            foreach (var network in api.Networks()) options.KnownIPNetworks.Add(network);
        });
    }

    private static void RaiseThreadPoolFloor(int perCore)
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        var floor = Environment.ProcessorCount * Math.Clamp(perCore, 0, 64);
        if (floor > workers) ThreadPool.SetMinThreads(floor, io);
    }

    /// <summary>
    /// Puts <see cref="CachedBlobStore"/> in front of the blob store. With a co-hosted silo the
    /// grains delete through it, so it drops what they delete; a client-mode API node follows the
    /// silos' deletion feed instead (<see cref="BlobDeletionFollower"/>, ADR 0017).
    /// </summary>
    private static void AddMediaCache(this IServiceCollection services, bool followDeletions)
    {
        var store = services.Last(d => d.ServiceType == typeof(IBlobStore));
        services.Remove(store);
        services.AddSingleton<IBlobStore>(sp =>
        {
            var inner = store.ImplementationInstance as IBlobStore
                ?? (IBlobStore?)store.ImplementationFactory?.Invoke(sp)
                ?? (IBlobStore)ActivatorUtilities.CreateInstance(sp, store.ImplementationType!);
            var media = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<MediaOptions>>().Value;
            if (media.CacheBytes == 0) return inner;
            if (!followDeletions) return new CachedBlobStore(inner, media.CacheBytes, media.CacheEntryBytes);
            var follower = sp.GetRequiredService<BlobDeletionFollower>();
            var cache = new CachedBlobStore(inner, media.CacheBytes, media.CacheEntryBytes, follower);
            follower.Follow(cache);
            return cache;
        });
        if (!followDeletions) return;
        services.AddSingleton(sp =>
        {
            var media = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<MediaOptions>>().Value;
            return new BlobDeletionFollower(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<TimeProvider>(),
                media.DeletionStaleness, media.ClientCacheMaxAge, sp.GetRequiredService<ILogger<BlobDeletionFollower>>());
        });
        // Resolving the store first attaches the cache (none when Media:CacheBytes is 0, and no store
        // without a storage backend: nothing to follow).
        services.AddHostedService<BackgroundService>(sp =>
            sp.GetService<Credentials.Grains.Storage.StorageBackend>() is not null && sp.GetRequiredService<IBlobStore>() is CachedBlobStore
            ? sp.GetRequiredService<BlobDeletionFollower>()
            : new NothingToFollow());
    }

    private sealed class NothingToFollow : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.CompletedTask;
    }

    public static void UseCredentialsPipeline(this WebApplication app)
    {
        // The start-up warm-up reads a page through everything below, in process.
        var warmup = app.Services.GetRequiredService<StartupWarmup>();
        app.Use(next => warmup.Pipeline = next);
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseAccessLog();
        // With no proxy listed the middleware would trust every caller, and with no remote address
        // (which it reads as "unknown, so trusted") too: it runs only when it can check one.
        var api = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApiOptions>>().Value;
        if (api.Proxies().Any() || api.Networks().Any())
        {
            app.UseWhen(context => context.Connection.RemoteIpAddress is not null, branch => branch.UseForwardedHeaders());
        }
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // Routing first: authentication skips the endpoints that never look at credentials (health).
        app.UseRouting();
        // A grain is asked only within the client address's budget; a call left without valid
        // credentials is then charged to it.
        app.UseAuthentication();
        app.UseRequestLogScope();
        app.UseClientAddressRateLimit();
        // Disabled (RateLimiting:Enabled=false) it would give every request its no-limit partition.
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RateLimitingOptions>>().Value.Enabled) app.UseRateLimiter();
        app.UseAuthorization();
        app.UseMiddleware<RequestActorMiddleware>();
        // After authorization: a key is scoped to the credential, and a refused call keeps nothing.
        app.UseMiddleware<IdempotencyMiddleware>();
        app.MapApiReference();
        var adminToken = app.Services.GetRequiredService<AdminToken>();
        app.Lifetime.ApplicationStarted.Register(() => adminToken.AnnounceIfGenerated(app.Urls));
        // Once the server listens (the warm-up sends itself requests); readiness waits for it.
        app.Lifetime.ApplicationStarted.Register(() => warmup.Start(app.Lifetime.ApplicationStopping));
    }
}
