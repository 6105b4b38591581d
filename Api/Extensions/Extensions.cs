using Credentials.Api.Auth;
using Credentials.Api.Http;
using Credentials.Grains.Blobs;
using Credentials.Grains.Hosting;
using Credentials.Grains.Images;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.WebUtilities;
using Orleans.Configuration;

namespace Credentials.Api.Extensions;

public static class Extensions
{
    /// <summary>Everything the API process needs: the Orleans host, auth, JSON, errors, OpenAPI, health.</summary>
    public static void AddCredentialsApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddOptions<ApiOptions>().Bind(configuration.GetSection("Api")).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection("Auth")).ValidateOnStart();
        services.AddOptions<ClusteringSettings>().Bind(configuration.GetSection("Orleans")).ValidateDataAnnotations().ValidateOnStart();

        builder.AddOrleans();
        services.AddOptions<ImageLimits>().Bind(configuration.GetSection("Images"))
            .Validate(l => l.MaxFileBytes > 0 && l.MaxPixels > 0 && l.MaxSide > 0, "Images limits must be positive.")
            .ValidateOnStart();
        // The silo registers the same store when co-hosted; an API node in client mode needs its own.
        services.TryAddSingleton<IBlobStore>(sp => BlobStores.For(
            sp.GetRequiredService<Credentials.Grains.Storage.StorageBackend>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Configuration.ClusterOptions>>().Value.ServiceId));

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
        services.AddOpenApi();
        services.AddCredentialsAuth(configuration);
        services.AddCredentialsRateLimiting(configuration);
        var health = services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster", tags: ["ready"]);
        if (!OrleansSetup.IsClientMode(configuration) || !string.IsNullOrEmpty(configuration.GetConnectionString("PostgreSql")))
        {
            if (OrleansSetup.IsClientMode(configuration))
            {
                services.AddSingleton(CredentialsSiloExtensions.StorageFromConfiguration(configuration, ProcessRole.ApiNode));
            }
            health.AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        }

        if (configuration.GetValue<bool>("Api:TrustForwardedHeaders"))
        {
            services.Configure<ForwardedHeadersOptions>(options =>
            {
                options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
                // The operator vouches for the proxy by turning this on; its address is not known here.
                options.KnownIPNetworks.Clear();
                options.KnownProxies.Clear();
            });
        }
    }

    public static void UseCredentialsPipeline(this WebApplication app)
    {
        app.UseMiddleware<RequestIdMiddleware>();
        if (app.Configuration.GetValue<bool>("Api:TrustForwardedHeaders"))
        {
            app.UseForwardedHeaders();
        }
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        var adminToken = app.Services.GetRequiredService<AdminToken>();
        app.Lifetime.ApplicationStarted.Register(() => adminToken.AnnounceIfGenerated(app.Urls));
    }
}
