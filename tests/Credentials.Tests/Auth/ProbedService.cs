using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Credentials.Grains;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Auth;

/// <summary>
/// The embedded service with two test hooks: a request's client address is taken from
/// <see cref="AddressHeader"/> (as the socket's would be; TestServer has none), and every grain
/// call the silo receives is counted by grain class and key.
/// </summary>
public sealed class ProbedService : IAsyncDisposable
{
    public const string AddressHeader = "X-Test-Client-Address";

    public ProbedService(ApiFactory? factory = null, IDictionary<string, string?>? settings = null)
    {
        Factory = factory ?? new ApiFactory();
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) Factory.Settings[key] = value;
        Host = Factory.WithWebHostBuilder(builder => builder.ConfigureServices(services =>
        {
            services.AddSingleton<IIncomingGrainCallFilter>(Calls);
            services.AddSingleton<IStartupFilter, AddressFromHeader>();
        }));
    }

    public ApiFactory Factory { get; }
    public WebApplicationFactory<Program> Host { get; }
    public GrainCalls Calls { get; } = new();
    public IGrainFactory Grains => Host.Services.GetRequiredService<IGrainFactory>();

    public HttpClient Client(string? scheme = null, string? credential = null, string? address = null)
    {
        var client = Host.CreateClient();
        if (scheme is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, credential);
        if (address is not null) client.DefaultRequestHeaders.Add(AddressHeader, address);
        return client;
    }

    public HttpClient Admin(string? address = null) => Client("Api-Token", ApiFactory.AdminToken, address);

    /// <summary>Org grain activations in the silo right now.</summary>
    public async Task<int> OrgActivationsAsync()
    {
        var statistics = await Grains.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        return statistics.Where(s => s.GrainType.Contains(nameof(OrgGrain), StringComparison.Ordinal)).Sum(s => s.ActivationCount);
    }

    /// <summary>Activations of one org's grain right now.</summary>
    public Task<int> ActivationsOfAsync(string org) =>
        Grains.GetGrain<IManagementGrain>(0).GetGrainActivationCount((GrainReference)Grains.GetGrain<IOrgGrain>(org));

    public async ValueTask DisposeAsync() => await Factory.DisposeAsync();

    /// <summary>Counts calls per grain class and key.</summary>
    public sealed class GrainCalls : IIncomingGrainCallFilter
    {
        private readonly ConcurrentDictionary<(string Grain, string Key), int> _calls = new();

        public Task Invoke(IIncomingGrainCallContext context)
        {
            _calls.AddOrUpdate((context.Grain?.GetType().Name ?? "?", context.TargetId.Key.ToString()!), 1, (_, n) => n + 1);
            return context.Invoke();
        }

        /// <summary>Calls to the grains credentials lead to: org grains and the org directory.</summary>
        public int ToCredentialGrains => To<OrgGrain>() + To<OrgDirectoryGrain>();

        public int To<TGrain>(string? key = null) =>
            _calls.Where(kv => kv.Key.Grain == typeof(TGrain).Name && (key is null || kv.Key.Key == key)).Sum(kv => kv.Value);

        public override string ToString() => string.Join(", ", _calls.Select(kv => $"{kv.Key.Grain}/{kv.Key.Key}: {kv.Value}"));

        /// <summary>Org grain calls to keys other than <paramref name="orgs"/>.</summary>
        public int ToOrgsOtherThan(params string[] orgs) =>
            _calls.Where(kv => kv.Key.Grain == nameof(OrgGrain) && !orgs.Contains(kv.Key.Key)).Sum(kv => kv.Value);
    }

    private sealed class AddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (IPAddress.TryParse(context.Request.Headers[AddressHeader], out var address)) context.Connection.RemoteIpAddress = address;
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

/// <summary>One probed service shared by a test class (its tests run one at a time, so counts stay theirs).</summary>
public sealed class ProbedServiceFixture : IAsyncLifetime
{
    public ProbedService Service { get; } = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Service.DisposeAsync();
}
