using Credentials.Grains.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;

namespace Credentials.Grains.Hosting;

public static partial class CredentialsSiloExtensions
{
    /// <summary>The name of the AdoNet grain storage provider holding every org's state.</summary>
    public const string StorageName = "credentials";

    /// <summary>
    /// Picks the storage backend from configuration: PostgreSQL when
    /// <c>ConnectionStrings:PostgreSql</c> is set, with this role's connection budget applied, else
    /// SQLite under <c>Storage:DataDirectory</c> (default <c>./data</c>). The one switch between the
    /// embedded default and a cluster.
    /// </summary>
    public static StorageBackend StorageFromConfiguration(IConfiguration configuration, ProcessRole role)
    {
        var postgres = configuration.GetConnectionString("PostgreSql");
        if (!string.IsNullOrWhiteSpace(postgres))
        {
            var budget = ConnectionBudget.From(configuration, role);
            return new PostgreSqlStorage(budget.State(postgres)) { BlobConnectionString = budget.Blobs(postgres) };
        }
        return SqliteStorage.InDirectory(DataDirectory(configuration));
    }

    /// <summary><c>Storage:DataDirectory</c>, default <c>data</c> (relative to where the process runs).</summary>
    public static string DataDirectory(IConfiguration configuration) =>
        configuration["Storage:DataDirectory"] is { Length: > 0 } directory ? directory : "data";

    /// <summary>Registers the org grain's storage: the AdoNet provider, its schema and the chunk store.</summary>
    public static ISiloBuilder AddCredentialsStorage(this ISiloBuilder silo, StorageBackend backend)
    {
        silo.Services.AddSingleton(backend);
        silo.Services.TryAddSingleton(sp => Blobs.BlobStores.For(backend, sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId));
        silo.Services.AddSingleton(TimeProvider.System);
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SchemaInitializer>();
        silo.AddAdoNetGrainStorage(StorageName, options =>
        {
            options.Invariant = backend.Invariant;
            options.ConnectionString = backend.ConnectionString;
            options.GrainStorageSerializer = new StorageJsonSerializer();
        });
        silo.Services.AddSingleton(sp => new ChunkStore(
            sp.GetRequiredKeyedService<IGrainStorage>(StorageName),
            backend.ChunkListing(sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId),
            backend.SingleWriter ? new SemaphoreSlim(1, 1) : null));
        return silo;
    }

    /// <summary>Creates the schema before any storage or clustering provider reads its queries.</summary>
    private sealed partial class SchemaInitializer(StorageBackend backend, ILogger<SchemaInitializer> logger)
        : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(SchemaInitializer), ServiceLifecycleStage.RuntimeInitialize - 1, async ct =>
            {
                await backend.EnsureSchemaAsync(ct);
                LogSchemaReady(logger, backend.Name);
            });

        [LoggerMessage(Level = LogLevel.Information, Message = "Storage schema ready on {Backend}.")]
        private static partial void LogSchemaReady(ILogger logger, string backend);
    }
}
