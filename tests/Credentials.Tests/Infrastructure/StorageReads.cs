using System.Collections.Concurrent;
using Credentials.Grains.Hosting;
using Credentials.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;

namespace Credentials.Tests.Infrastructure;

/// <summary>
/// Counts the storage round trips that read, per org: every row read by key (the provider) and
/// every listing or bulk read (the backend). Registered in a silo, it replaces its chunk store.
/// </summary>
public sealed class StorageReads
{
    private readonly ConcurrentDictionary<string, int> _byOrg = new(StringComparer.Ordinal);

    public int Of(string org) => _byOrg.GetValueOrDefault(org);

    private void Add(string key) => _byOrg.AddOrUpdate(ChunkStore.OrgOf(key), 1, (_, n) => n + 1);

    public static void Count(ISiloBuilder silo, StorageBackend backend)
    {
        silo.Services.AddSingleton<StorageReads>();
        silo.Services.AddSingleton(sp =>
        {
            var reads = sp.GetRequiredService<StorageReads>();
            return new ChunkStore(
                new Rows(sp.GetRequiredKeyedService<IGrainStorage>(CredentialsSiloExtensions.StorageName), reads),
                new Listing(backend.ChunkListing(sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId), reads),
                backend.SingleWriter ? new SemaphoreSlim(1, 1) : null,
                backend.ChunkBatches(sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId));
        });
    }

    private sealed class Rows(IGrainStorage inner, StorageReads reads) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            reads.Add(grainId.Key.ToString()!);
            return inner.ReadStateAsync(stateName, grainId, grainState);
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.WriteStateAsync(stateName, grainId, grainState);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }

    private sealed class Listing(IChunkListing inner, StorageReads reads) : IChunkListing
    {
        public Task<IReadOnlyList<string>> ListKeysAsync(string prefix)
        {
            reads.Add(prefix);
            return inner.ListKeysAsync(prefix);
        }

        public Task<List<TRow>> ReadRowsAsync<TRow>(string prefix, ChunkRowDecoder<TRow> decode)
        {
            reads.Add(prefix);
            return inner.ReadRowsAsync(prefix, decode);
        }
    }
}
