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

    /// <summary>The org grain's storage for a host whose <see cref="Topology"/> says whether it migrates the schema.</summary>
    public static ISiloBuilder AddCredentialsStorage(this ISiloBuilder silo, Topology topology) =>
        silo.AddCredentialsStorage(topology.Backend!, topology.MigratesSchema, topology.WebhookKeyFile);

    /// <summary>
    /// Registers the org grain's storage: the AdoNet provider, its schema and the chunk store. With
    /// <paramref name="migrateSchema"/> false (cluster nodes) the silo runs no DDL and refuses to
    /// start on a PostgreSQL schema older than this build needs. <paramref name="webhookKeyFile"/>:
    /// where a lone silo keeps its generated webhook secret key; null requires <c>Webhooks:SecretKey</c>.
    /// </summary>
    public static ISiloBuilder AddCredentialsStorage(this ISiloBuilder silo, StorageBackend backend, bool migrateSchema = true, string? webhookKeyFile = null)
    {
        silo.Services.AddSingleton(backend);
        // Deletions are published to the feed client-mode API nodes' media caches follow (ADR 0017).
        silo.Services.TryAddSingleton<Blobs.IBlobStore>(sp => new Blobs.DeletionPublishingBlobStore(
            Blobs.BlobStores.For(backend, sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId),
            sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<ILogger<Blobs.DeletionPublishingBlobStore>>()));
        silo.Services.AddSingleton(TimeProvider.System);
        // An embedded single-silo host registers an enabled one first (ADR 0021).
        silo.Services.TryAddSingleton(Issuers.LocalIssuerVersions.Off);
        silo.Services.AddOptions<Quotas.OrgLimits>().Bind(silo.Configuration.GetSection(Quotas.OrgLimits.Section))
            // No data annotations here (this project has no Options.DataAnnotations): the rule is IsValid.
            .Validate(limits => limits.IsValid, Quotas.OrgLimits.ValidationMessage)
            .ValidateOnStart();
        silo.Services.AddOptions<Events.EventOptions>().Bind(silo.Configuration.GetSection(Events.EventOptions.Section))
            .Validate(events => events.IsValid, Events.EventOptions.ValidationMessage)
            .ValidateOnStart();
        silo.Services.AddOptions<Idempotency.IdempotencyOptions>().Bind(silo.Configuration.GetSection(Idempotency.IdempotencyOptions.Section))
            .Validate(options => options.IsValid, Idempotency.IdempotencyOptions.ValidationMessage)
            .ValidateOnStart();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp =>
            new SchemaInitializer(backend, migrateSchema, sp.GetRequiredService<ILogger<SchemaInitializer>>()));
        silo.AddAdoNetGrainStorage(StorageName, options =>
        {
            options.Invariant = backend.Invariant;
            options.ConnectionString = backend.ConnectionString;
            options.GrainStorageSerializer = new StorageJsonSerializer();
        });
        silo.Services.AddSingleton(sp => new ChunkStore(
            sp.GetRequiredKeyedService<IGrainStorage>(StorageName),
            backend.ChunkListing(sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId),
            backend.SingleWriter ? new SemaphoreSlim(1, 1) : null,
            backend.ChunkBatches(sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId)));
        silo.AddCredentialsWebhooks(webhookKeyFile);
        return silo;
    }

    /// <summary>Migrates or checks the schema before any storage or clustering provider reads its queries.</summary>
    private sealed class SchemaInitializer(StorageBackend backend, bool migrate, ILogger<SchemaInitializer> logger)
        : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(SchemaInitializer), ServiceLifecycleStage.RuntimeInitialize - 1,
                ct => SchemaStartup.PrepareAsync(backend, migrate, logger, ct));
    }
}
