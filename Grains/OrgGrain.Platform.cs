using Credentials.Grains.Platforms;
using Credentials.Grains.Storage;

namespace Credentials.Grains;

// The platform record: created once, read by every other area to know the org exists.
public sealed partial class OrgGrain
{
    public async Task<Outcome<Platform>> CreatePlatform(string? name)
    {
        if (_platform is not null)
        {
            await RegisterInDirectory(); // repairs a create whose registration failed
            return Outcome<Platform>.Invalid("key", "A platform with this key already exists.");
        }
        var (trimmed, error) = PlatformRules.Name(name, Org);
        if (error is not null) return Outcome<Platform>.Invalid("name", error);
        var created = clock.GetUtcNow();
        created = created.AddTicks(-(created.Ticks % TimeSpan.TicksPerMillisecond));
        _platform = new Platform(Org, trimmed!, created);
        _platformRow.Set(new PlatformRecord(Org, trimmed!, created));
        await CommitChangeAsync(EventActions.PlatformCreated, EventTarget.Platform(Org));
        localVersions.Show(Org, _issuers);
        await RegisterInDirectory();
        return new Outcome<Platform>(OutcomeStatus.Created, _platform);
    }

    /// <summary>After the platform is durable and before the create is acknowledged, so API nodes accept the org's tokens.</summary>
    private Task RegisterInDirectory() => GrainFactory.GetGrain<IOrgDirectoryGrain>(0).Register(_platform!);

    public Task<Platform?> GetPlatform() => Task.FromResult(_platform);
}
