using System.Net;
using System.Net.Sockets;
using Credentials.Api.Extensions;
using Microsoft.Extensions.Options;

namespace Credentials.Api.Auth;

/// <summary>
/// B6: token buckets for calls without valid credentials, per client address, in a table of fixed
/// size: however many addresses call, it holds <see cref="Slots"/> buckets and nothing else.
/// Addresses hash to slots with a per-process seed (so nobody can aim at another's slot); the
/// rare addresses that share a slot share its permits. IPv6 addresses count per /64, the block one
/// subscriber usually holds.
/// </summary>
/// <remarks>
/// Authentication asks <see cref="HasPermit"/> before any grain call; a call that ends up without
/// valid credentials then takes a permit (<see cref="TryAcquire"/>), or is answered 429.
/// </remarks>
public sealed class ClientAddressLimiter
{
    public const int Slots = 16_384;
    private const int LockStripes = 64;

    private readonly Bucket[] _buckets = new Bucket[Slots];
    private readonly Lock[] _locks = Enumerable.Range(0, LockStripes).Select(_ => new Lock()).ToArray();
    private readonly TimeProvider _clock;
    private readonly bool _enabled;
    private readonly double _permitsPerTick;
    private readonly double _burst;

    public ClientAddressLimiter(IOptions<RateLimitingOptions> options, TimeProvider clock)
    {
        var settings = options.Value;
        _clock = clock;
        _enabled = settings.Enabled;
        _permitsPerTick = settings.AnonymousPermitsPerSecond / (double)clock.TimestampFrequency;
        _burst = settings.AnonymousBurst;
    }

    /// <summary>The address's bucket holds at least one permit (none is taken).</summary>
    public bool HasPermit(IPAddress? address)
    {
        if (!_enabled) return true;
        var slot = SlotOf(address);
        lock (_locks[slot % LockStripes])
        {
            return Refill(ref _buckets[slot], _clock.GetTimestamp()) >= 1;
        }
    }

    /// <summary>Takes one permit; when there is none, says how long until there is.</summary>
    public bool TryAcquire(IPAddress? address, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (!_enabled) return true;
        var slot = SlotOf(address);
        lock (_locks[slot % LockStripes])
        {
            ref var bucket = ref _buckets[slot];
            var tokens = Refill(ref bucket, _clock.GetTimestamp());
            if (tokens >= 1)
            {
                bucket.Tokens = tokens - 1;
                return true;
            }
            retryAfter = TimeSpan.FromSeconds((1 - tokens) / (_permitsPerTick * _clock.TimestampFrequency));
            return false;
        }
    }

    private double Refill(ref Bucket bucket, long now)
    {
        // A slot never used (Stamp 0) is full.
        bucket.Tokens = bucket.Stamp == 0 ? _burst : Math.Min(_burst, bucket.Tokens + (now - bucket.Stamp) * _permitsPerTick);
        bucket.Stamp = now;
        return bucket.Tokens;
    }

    private static int SlotOf(IPAddress? address)
    {
        Span<byte> bytes = stackalloc byte[16];
        var length = 0;
        if (address is not null)
        {
            if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            address.TryWriteBytes(bytes, out length);
            if (address.AddressFamily == AddressFamily.InterNetworkV6) length = 8;
        }
        var hash = new HashCode(); // seeded per process
        hash.AddBytes(bytes[..length]);
        return (int)((uint)hash.ToHashCode() % Slots);
    }

    private struct Bucket
    {
        public double Tokens;
        public long Stamp;
    }
}
