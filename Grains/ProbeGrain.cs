using Orleans.Concurrency;

namespace Credentials.Grains;

[StatelessWorker]
public sealed class ProbeGrain : Grain, IProbeGrain
{
    public Task<string> Ping() => Task.FromResult(RuntimeIdentity);
}
