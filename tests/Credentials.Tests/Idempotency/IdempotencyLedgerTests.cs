using Credentials.Grains;
using Credentials.Grains.Idempotency;
using Credentials.Grains.Quotas;

namespace Credentials.Tests.Idempotency;

/// <summary>C3, the org grain's half: what an org keeps for a key, for how long, at what cost. No cluster needed.</summary>
public sealed class IdempotencyLedgerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private readonly OrgUsage _usage;
    private readonly IdempotencyLedger _ledger;
    private readonly IdempotencyOptions _options = new() { MaxKeysPerOrg = 3, MaxAnswerBytes = 1000, LeaseSeconds = 60 };

    public IdempotencyLedgerTests()
    {
        _usage = new OrgUsage(new OrgLimits { MaxOrgRecordBytes = 100_000 });
        _ledger = new IdempotencyLedger("acme", _usage, _options);
    }

    private static IdempotentRequest Request(string scope, byte body = 1) => new(scope, [body, 2, 3]);

    private static StoredAnswer Answer(int status = 201, int bytes = 10) => new(status, ["Content-Type", "application/json"], new byte[bytes]);

    /// <summary>Claims and completes a key with <paramref name="answer"/>; asserts it is kept.</summary>
    private void Keep(string scope, DateTimeOffset at, StoredAnswer? answer = null)
    {
        var claim = _ledger.Claim(Request(scope), at, orgExists: true);
        Assert.Equal(IdempotentStart.Run, claim.Start);
        Assert.True(_ledger.Complete(Request(scope), claim.Lease, answer ?? Answer(), at, orgExists: true));
    }

    [Fact]
    public void A_kept_key_replays_its_answer_for_the_same_body_and_is_a_mismatch_for_another()
    {
        var answer = Answer(bytes: 5);
        Keep("k", T0, answer);

        var replay = _ledger.Claim(Request("k"), T0.AddHours(1), orgExists: true);
        Assert.Equal(IdempotentStart.Replay, replay.Start);
        Assert.Same(answer, replay.Answer);
        Assert.Equal(IdempotentStart.Mismatch, _ledger.Claim(Request("k", body: 9), T0.AddHours(1), orgExists: true).Start);
    }

    [Fact]
    public void A_running_key_is_in_flight_until_completed_and_a_lapsed_lease_can_be_claimed_again()
    {
        var first = _ledger.Claim(Request("k"), T0, orgExists: true);
        Assert.Equal(IdempotentStart.Run, first.Start);

        Assert.Equal(IdempotentStart.InFlight, _ledger.Claim(Request("k"), T0.AddSeconds(59), orgExists: true).Start);
        Assert.Equal(IdempotentStart.Mismatch, _ledger.Claim(Request("k", body: 9), T0.AddSeconds(59), orgExists: true).Start);
        // The first request's API node is gone: after the lease the key is free again.
        var second = _ledger.Claim(Request("k"), T0.AddSeconds(60), orgExists: true);
        Assert.Equal(IdempotentStart.Run, second.Start);
        Assert.NotEqual(first.Lease, second.Lease);
    }

    [Fact]
    public void A_released_key_is_not_kept_and_a_repeat_runs_again()
    {
        var claim = _ledger.Claim(Request("k"), T0, orgExists: true);

        Assert.False(_ledger.Complete(Request("k"), claim.Lease, null, T0, orgExists: true));

        Assert.Equal(IdempotentStart.Run, _ledger.Claim(Request("k"), T0, orgExists: true).Start);
        Assert.Equal(0, _ledger.Count);
    }

    [Fact]
    public void Keys_expire_24_hours_after_they_were_kept_oldest_first()
    {
        Keep("old", T0);
        Keep("young", T0.AddHours(1));

        Assert.Equal(IdempotentStart.Replay, _ledger.Claim(Request("old"), T0.AddHours(24).AddTicks(-1), orgExists: true).Start);
        _ledger.Expire(T0.AddHours(24));

        Assert.Equal(1, _ledger.Count);
        Assert.Equal(IdempotentStart.Run, _ledger.Claim(Request("old"), T0.AddHours(24), orgExists: true).Start);
        Assert.Equal(IdempotentStart.Replay, _ledger.Claim(Request("young"), T0.AddHours(24), orgExists: true).Start);
    }

    [Fact]
    public void Kept_keys_count_in_the_org_record_bytes_until_they_expire()
    {
        Keep("small", T0, Answer(bytes: 10));
        var small = _usage.RecordBytes;
        Keep("large", T0, Answer(bytes: 900));

        Assert.True(small > 10, $"{small}");
        Assert.True(_usage.RecordBytes - small > 900 * 4 / 3, "the answer counts as stored (base64)");
        _ledger.Expire(T0.AddDays(1));
        Assert.Equal(0, _usage.RecordBytes);
    }

    [Fact]
    public void An_org_at_its_record_limit_refuses_a_new_key_before_the_request_runs()
    {
        _usage.AddRecordBytes(100_000 - IdempotencyLedger.RecordOverheadBytes + 1);

        var claim = _ledger.Claim(Request("k"), T0, orgExists: true);

        Assert.Equal(IdempotentStart.QuotaExceeded, claim.Start);
        Assert.Contains("Limits:MaxOrgRecordBytes", claim.Detail);
    }

    [Fact]
    public void Past_MaxKeysPerOrg_the_oldest_key_is_dropped()
    {
        Keep("a", T0);
        Keep("b", T0.AddMinutes(1));
        Keep("c", T0.AddMinutes(2));
        Keep("d", T0.AddMinutes(3));

        Assert.Equal(3, _ledger.Count);
        Assert.Equal(IdempotentStart.Run, _ledger.Claim(Request("a"), T0.AddMinutes(4), orgExists: true).Start);
        Assert.Equal(IdempotentStart.Replay, _ledger.Claim(Request("b"), T0.AddMinutes(4), orgExists: true).Start);
    }

    [Fact]
    public void An_answer_larger_than_MaxAnswerBytes_is_not_kept()
    {
        var claim = _ledger.Claim(Request("k"), T0, orgExists: true);

        Assert.False(_ledger.Complete(Request("k"), claim.Lease, Answer(bytes: 1001), T0, orgExists: true));
        Assert.Equal(0, _usage.RecordBytes);
    }

    [Fact]
    public void Nothing_is_kept_for_an_org_that_does_not_exist_unless_the_request_creates_it()
    {
        Assert.Equal(IdempotentStart.NotKept, _ledger.Claim(Request("k"), T0, orgExists: false).Start);

        var create = new IdempotentRequest("create", [1], CreatesOrg: true);
        var claim = _ledger.Claim(create, T0, orgExists: false);
        Assert.Equal(IdempotentStart.Run, claim.Start);
        // The create failed (the org still does not exist): nothing is kept, the key is free.
        Assert.False(_ledger.Complete(create, claim.Lease, Answer(400), T0, orgExists: false));
        Assert.Equal(IdempotentStart.Run, _ledger.Claim(create, T0, orgExists: false).Start);
    }
}
