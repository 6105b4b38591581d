using Credentials.Grains.Quotas;
using Credentials.Grains.Storage;

namespace Credentials.Grains.Idempotency;

/// <summary>
/// An org's Idempotency-Keys (contract C3): the kept answers, persisted in bounded chunks with the
/// org's other rows and counted in its record bytes, and the requests still running, in memory
/// under a lease. Creation order is expiry order, so expired keys are dropped from the front.
/// Not thread-safe: the org grain runs one turn at a time.
/// </summary>
public sealed class IdempotencyLedger(string org, OrgUsage usage, IdempotencyOptions options)
{
    /// <summary>What a kept key costs besides its answer (scope, fingerprint, time, JSON framing), checked before a request runs.</summary>
    public const int RecordOverheadBytes = 256;

    private readonly ChunkedCollection<IdempotencyRecord> _kept = new($"{org}/idempotency", r => r.Scope, r => (int)RecordSize.Of(r));
    private readonly Dictionary<string, Running> _running = new(StringComparer.Ordinal);

    /// <summary>Keys kept (expired ones may linger until the next claim).</summary>
    public int Count => _kept.Count;

    public int RunningCount => _running.Count;

    public async Task<ChunkLoad> LoadAsync(ChunkStore store)
    {
        var load = await _kept.LoadAsync(store);
        for (var i = 0; i < _kept.Count; i++) usage.AddRecordBytes(RecordSize.Of(_kept[i]));
        return load;
    }

    public List<IPendingWrite> TakeChanges() => _kept.TakeChanges();

    /// <summary>Starts a keyed request: run it, replay its answer, or refuse it (409, 422).</summary>
    public IdempotentClaim Claim(IdempotentRequest request, DateTimeOffset now, bool orgExists)
    {
        Expire(now);
        if (Kept(request.Scope, now) is { } record)
        {
            return Same(record.Fingerprint, request.Fingerprint) ? new IdempotentClaim(IdempotentStart.Replay, Answer: record.Answer) : Mismatch;
        }
        if (_running.TryGetValue(request.Scope, out var running) && running.Until > now)
        {
            return Same(running.Fingerprint, request.Fingerprint) ? InFlight : Mismatch;
        }
        if (!orgExists && !request.CreatesOrg) return new IdempotentClaim(IdempotentStart.NotKept);
        if (usage.Refusal(RecordOverheadBytes) is { } refusal) return new IdempotentClaim(IdempotentStart.QuotaExceeded, Detail: refusal);
        if (_running.Count >= options.MaxKeysPerOrg && !DropLapsedLeases(now))
        {
            return new IdempotentClaim(IdempotentStart.InFlight, Detail: "Too many requests with an Idempotency-Key are running for this platform; retry later.");
        }
        var lease = Guid.NewGuid();
        _running[request.Scope] = new Running(lease, request.Fingerprint, now + TimeSpan.FromSeconds(options.LeaseSeconds));
        return new IdempotentClaim(IdempotentStart.Run, lease);
    }

    /// <summary>
    /// Ends a claim. With an answer the key is kept (true: the caller commits before the answer is
    /// sent); without one (a 5xx, an answer too large, a failure) the key is released and a repeat runs again.
    /// </summary>
    public bool Complete(IdempotentRequest request, Guid lease, StoredAnswer? answer, DateTimeOffset now, bool orgExists)
    {
        if (_running.TryGetValue(request.Scope, out var running) && running.Lease == lease) _running.Remove(request.Scope);
        // A key is kept once, in an org that exists (a platform create that failed keeps nothing).
        if (answer is null || !orgExists || answer.Body.Length > options.MaxAnswerBytes || Kept(request.Scope, now) is not null) return false;
        while (_kept.Count >= options.MaxKeysPerOrg) Drop(_kept[0]);
        var record = new IdempotencyRecord(request.Scope, request.Fingerprint, now, answer);
        _kept.Add(record, _kept.NextSeq());
        usage.AddRecordBytes(RecordSize.Of(record));
        return true;
    }

    /// <summary>Drops the keys whose 24 hours are over, oldest first.</summary>
    public void Expire(DateTimeOffset now)
    {
        while (_kept.Count > 0 && _kept[0].Created + IdempotencyOptions.KeyLifetime <= now) Drop(_kept[0]);
    }

    private IdempotencyRecord? Kept(string scope, DateTimeOffset now)
    {
        if (!_kept.TryGet(scope, out var record)) return null;
        if (record.Created + IdempotencyOptions.KeyLifetime > now) return record;
        Drop(record); // expired behind a younger head (the clock stepped back)
        return null;
    }

    private void Drop(IdempotencyRecord record)
    {
        _kept.Remove(record.Scope);
        usage.AddRecordBytes(-RecordSize.Of(record));
    }

    private bool DropLapsedLeases(DateTimeOffset now)
    {
        foreach (var (scope, running) in _running)
        {
            if (running.Until <= now) _running.Remove(scope);
        }
        return _running.Count < options.MaxKeysPerOrg;
    }

    private static bool Same(byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b);

    private static readonly IdempotentClaim InFlight = new(IdempotentStart.InFlight);
    private static readonly IdempotentClaim Mismatch = new(IdempotentStart.Mismatch);

    private sealed record Running(Guid Lease, byte[] Fingerprint, DateTimeOffset Until);
}
