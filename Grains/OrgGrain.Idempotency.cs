using Credentials.Grains.Idempotency;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Credentials.Grains;

// Idempotency-Keys (C3): kept with the org's state by IdempotencyLedger, committed with its other rows.
public sealed partial class OrgGrain
{
    private IdempotencyLedger _idempotency = null!;

    private IdempotencyLedger NewIdempotencyLedger() =>
        new(Org, _usage, ServiceProvider.GetRequiredService<IOptions<IdempotencyOptions>>().Value);

    public Task<IdempotentClaim> ClaimIdempotencyKey(IdempotentRequest request) =>
        Task.FromResult(_idempotency.Claim(request, clock.GetUtcNow(), _platform is not null));

    public async Task CompleteIdempotencyKey(IdempotentRequest request, Guid lease, StoredAnswer? answer)
    {
        // Durable before the API sends the answer: a repeat after a restart replays it.
        if (_idempotency.Complete(request, lease, answer, clock.GetUtcNow(), _platform is not null)) await _commit.CommitAsync();
    }
}
