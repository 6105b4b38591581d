using Credentials.Grains.Blobs;
using Credentials.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Credentials.Tests.Images;

/// <summary>A whole service whose blob store is an <see cref="ObservedBlobStore"/> over its own.</summary>
public sealed class ObservedService : IAsyncDisposable
{
    private readonly ApiFactory _factory;

    public ObservedService(Backend backend)
    {
        _factory = new ApiFactory(backend);
        Factory = _factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
        {
            var own = services.Last(d => d.ServiceType == typeof(IBlobStore));
            services.AddSingleton<IBlobStore>(sp => new ObservedBlobStore((IBlobStore)own.ImplementationFactory!(sp)));
        }));
        Blobs = (ObservedBlobStore)Factory.Services.GetRequiredService<IBlobStore>();
    }

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
public abstract class ObservedServiceFixture(Backend backend) : IAsyncLifetime
{
    public ObservedService Service { get; } = new(backend);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Service.DisposeAsync();
}
