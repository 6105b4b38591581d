using Credentials.Grains.Blobs;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Credentials.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Credentials.Tests.Images;

/// <summary>
/// A whole service whose blob store is an <see cref="ObservedBlobStore"/> over its own (media cache
/// included), or, with <c>underMediaCache</c>, whose media cache sits over an observed store, so a
/// test sees what reaches the store behind the cache.
/// </summary>
public sealed class ObservedService : IAsyncDisposable
{
    private readonly ApiFactory _factory;

    public ObservedService(Backend backend, bool underMediaCache = false)
    {
        _factory = new ApiFactory(backend);
        ObservedBlobStore? observed = null;
        Factory = _factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
        {
            var own = services.Last(d => d.ServiceType == typeof(IBlobStore));
            services.AddSingleton<IBlobStore>(sp =>
            {
                if (!underMediaCache) return observed = new ObservedBlobStore((IBlobStore)own.ImplementationFactory!(sp));
                var serviceId = sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;
                observed = new ObservedBlobStore(BlobStores.For(sp.GetRequiredService<StorageBackend>(), serviceId));
                return Cache = new CachedBlobStore(observed, MediaCacheBytes, MediaCacheEntryBytes);
            });
        }));
        Factory.Services.GetRequiredService<IBlobStore>();
        Blobs = observed!;
    }

    public const long MediaCacheBytes = 256 * 1024;
    public const long MediaCacheEntryBytes = 64 * 1024;

    /// <summary>The media cache, when the store is observed under it.</summary>
    public CachedBlobStore? Cache { get; private set; }

    public WebApplicationFactory<Program> Factory { get; }
    public ObservedBlobStore Blobs { get; }

    public HttpClient CreateClient() => Factory.CreateClient();

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        await _factory.DisposeAsync();
    }
}

/// <summary>One <see cref="ObservedService"/> shared by a test class; each test uses its own org.</summary>
public abstract class ObservedServiceFixture(Backend backend, bool underMediaCache = false) : IAsyncLifetime
{
    public ObservedService Service { get; } = new(backend, underMediaCache);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Service.DisposeAsync();
}
