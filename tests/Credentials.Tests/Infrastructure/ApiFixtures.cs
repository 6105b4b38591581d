namespace Credentials.Tests.Infrastructure;

/// <summary>One embedded service shared by a collection of HTTP tests; each test uses its own org.</summary>
public sealed class SqliteApiFixture : IAsyncLifetime
{
    public ApiFactory Factory { get; } = new(Backend.Sqlite);

    public Task InitializeAsync()
    {
        _ = Factory.Server; // start the host (and its silo) once for the collection
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<SqliteApiFixture>
{
    public const string Name = "api";
}

/// <summary>Tests that measure process-wide counters run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial";
}
