using System.Diagnostics;
using System.Globalization;
using Credentials.Grains;
using Credentials.Grains.Hosting;
using Credentials.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Credentials.Bench;

/// <summary>
/// activation: cold activation of big orgs in an in-process silo over real storage (a SQLite file,
/// or PostgreSQL with --activation-postgres). Rows are written straight through the chunk store;
/// the silo is then restarted, so the timed first call finds nothing in memory (JIT stays warm:
/// process start-up is not part of this figure). Also: memory per record (the GC's heap growth
/// across the activation, over the records loaded) and an org after churn.
/// </summary>
public static class ActivationBench
{
    public static async Task RunAsync(BenchOptions o)
    {
        var backend = o.ActivationPostgres is { } connection
            ? (StorageBackend)new PostgreSqlStorage(connection)
            : SqliteStorage.InDirectory(Path.Combine(Path.GetTempPath(), "credentials-bench-activation-" + Guid.NewGuid().ToString("N")[..8]));
        var label = o.Label + " (in-process silo)";
        var serviceId = "bench-activation-" + Guid.NewGuid().ToString("N")[..8];
        var n = o.ActivationItems;

        string issuers, images, churned;
        await using (var silo = await Silo.StartAsync(backend, serviceId))
        {
            issuers = await SeedIssuers(silo, n);
            images = await SeedImages(silo, n);
            churned = await Churn(silo, n);
            // One org activated and dropped first, so the measured ones pay no JIT.
            await silo.Org(await SeedIssuers(silo, 1000)).GetPlatform();
        }
        foreach (var (org, what, records) in new[] { (issuers, "issuers", n), (images, "images", n), (churned, "issuers after churn", n / 10) })
        {
            await using var silo = await Silo.StartAsync(backend, serviceId);
            await silo.Org(await SeedIssuers(silo, 1000)).GetPlatform();
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            var clock = Stopwatch.StartNew();
            var first = await silo.Org(org).ListIssuers(null, 0, 1);
            var elapsed = clock.Elapsed;
            var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
            if (first.Status != OutcomeStatus.Ok) throw new InvalidOperationException($"{org} did not activate: {first.Status}");
            var rows = (await silo.Store.ListAsync($"{org}/{(what == "images" ? "images" : "issuers")}/")).Count;
            var line = string.Create(CultureInfo.InvariantCulture,
                $"| {DateTime.UtcNow:yyyy-MM-dd HH:mm} | {label} | activation | {records:N0} {what}, {rows} chunk rows | first call {elapsed.TotalMilliseconds:0} ms | heap +{(heapAfter - heapBefore) / 1048576.0:0.0} MiB = {(double)(heapAfter - heapBefore) / records:0} B/record |");
            Console.WriteLine("bench: " + line);
            File.AppendAllText(o.OutputPath, line + "\n");
        }
    }

    private static string NewOrg(string what) => $"act-{what}-{Guid.NewGuid():N}"[..24];

    private static async Task<string> SeedIssuers(Silo silo, int count)
    {
        var org = NewOrg("iss");
        await silo.Store.WriteAsync(StoredOrgs.PlatformKey(org), new PlatformRecord(org, org, DateTimeOffset.UtcNow), null);
        var seq = 0L;
        for (var chunk = 0; seq < count; chunk++)
        {
            var items = new List<ChunkItem<Issuer>>();
            for (var i = 0; i < ChunkedCollection<Issuer>.MaxItemsPerChunk && seq < count; i++)
            {
                seq++;
                items.Add(new ChunkItem<Issuer>(seq, BenchIssuer(seq)));
            }
            await silo.Store.WriteAsync($"{org}/issuers/{chunk}", new Chunk<Issuer>(seq, [.. items]), null);
        }
        return org;
    }

    /// <summary>Shaped like the HTTP bench's issuers (ServiceClient.IssuerJson): name, email, url, two tags, one signatory.</summary>
    private static Issuer BenchIssuer(long n) => new(
        Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
        $"Bench issuer {n}", $"issuer{n}@example.org", $"https://example.org/issuers/{n}", null,
        ["badge", "course"], new Dictionary<string, string> { ["dean"] = "Dr. Example" });

    private static async Task<string> SeedImages(Silo silo, int count)
    {
        var org = NewOrg("img");
        await silo.Store.WriteAsync(StoredOrgs.PlatformKey(org), new PlatformRecord(org, org, DateTimeOffset.UtcNow), null);
        const int perChunk = OrgGrain.ImagesPerChunk;
        var seq = 0L;
        for (var chunk = 0; seq < count; chunk++)
        {
            var items = new List<ChunkItem<ImageRecord>>();
            for (var i = 0; i < perChunk && seq < count; i++)
            {
                seq++;
                var sha = Convert.ToHexStringLower(BitConverter.GetBytes(seq % 1000)).PadLeft(64, '0');
                items.Add(new ChunkItem<ImageRecord>(seq, new ImageRecord(seq, $"icon {seq}", sha, "png", 2048, 64, 64, DateTimeOffset.UtcNow)));
            }
            await silo.Store.WriteAsync($"{org}/images/{chunk}", new Chunk<ImageRecord>(seq, [.. items]), null);
        }
        return org;
    }

    /// <summary>An org that held <paramref name="count"/> issuers and lost 90 % of them through the grain (compaction runs in those commits).</summary>
    private static async Task<string> Churn(Silo silo, int count)
    {
        var org = await SeedIssuers(silo, count);
        var grain = silo.Org(org);
        var ids = new List<string>();
        while (ids.Count < count)
        {
            // Seeded issuers are numbered 1..count in order: after the k-th comes number k + 1.
            var page = (await grain.ListIssuers(null, 0, 10_000, ids.Count)).Value!;
            if (page.Items.Count == 0) break;
            ids.AddRange(page.Items.Select(i => i.EntityId));
        }
        var doomed = ids.Where((_, i) => i % 10 != 0).ToArray();
        var clock = Stopwatch.StartNew();
        foreach (var batch in doomed.Chunk(256)) await Task.WhenAll(batch.Select(grain.DeleteIssuer));
        Console.WriteLine($"bench: churn deleted {doomed.Length:N0} issuers in {clock.Elapsed.TotalSeconds:0.0} s");
        return org;
    }

    private sealed class Silo : IAsyncDisposable
    {
        private readonly IHost _host;

        private Silo(IHost host) => _host = host;

        public ChunkStore Store => _host.Services.GetRequiredService<ChunkStore>();

        public IOrgGrain Org(string key) => _host.Services.GetRequiredService<IGrainFactory>().GetGrain<IOrgGrain>(key);

        public static async Task<Silo> StartAsync(StorageBackend backend, string serviceId)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            // A throwaway key: the bench makes no webhooks, but a silo over shared storage needs one.
            builder.Configuration["Webhooks:SecretKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            builder.UseOrleans(silo =>
            {
                silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort(), serviceId: serviceId, clusterId: serviceId);
                silo.AddCredentialsStorage(backend);
                // A loaded machine can take longer than the default 30 s to activate a big org.
                silo.Configure<SiloMessagingOptions>(options => options.ResponseTimeout = TimeSpan.FromMinutes(5));
            });
            var host = builder.Build();
            await host.StartAsync();
            return new Silo(host);
        }

        private static int FreePort()
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        public async ValueTask DisposeAsync()
        {
            await _host.StopAsync();
            _host.Dispose();
        }
    }
}
