using System.Collections.Concurrent;
using System.Net;
using ShieldCluster.Protection.RateLimiting;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Telemetry;

namespace ShieldCluster.Server.Identity;

/// <summary>
/// Throttles repeated failed authentications from one source address: each failure spends a token
/// of that address's bucket (20, refilled one per 3 s); with none left every request from it that
/// needs a key is answered 429 until the bucket refills, so keys cannot be guessed at speed. Sources
/// that have not failed for a while are forgotten; the table is bounded.
/// </summary>
public sealed class AuthFailureLimiter(TimeProvider time, ShieldMetrics metrics)
{
    private const int MaxSources = 100_000;
    private static readonly BucketLimits Limits = new(1.0 / 3, 20);

    private readonly ConcurrentDictionary<IPAddress, TokenBucket> _buckets = new();

    /// <summary>429 when <paramref name="context"/>'s source has spent its failures.</summary>
    public void ThrowIfThrottled(HttpContext context)
    {
        if (Source(context) is { } source && _buckets.TryGetValue(source, out var bucket))
        {
            var now = time.GetUtcNow();
            var refilled = bucket.Refill(Limits, now);
            if (refilled.Tokens < 1)
            {
                var wait = (int)Math.Ceiling((1 - refilled.Tokens) / Limits.RequestsPerSecond);
                throw new ApiException(StatusCodes.Status429TooManyRequests, "too many failed authentications from this address", Math.Max(1, wait));
            }
        }
    }

    /// <summary>Counts a failed authentication of <paramref name="kind"/> (client or admin) against the source.</summary>
    public void RecordFailure(HttpContext context, string kind)
    {
        metrics.AuthFailures.WithLabels(kind).Inc();
        if (Source(context) is not { } source)
        {
            return;
        }

        var now = time.GetUtcNow();
        if (_buckets.Count >= MaxSources)
        {
            foreach (var stale in _buckets.Where(b => b.Value.Refill(Limits, now).Tokens >= Limits.Burst).Select(b => b.Key).ToList())
            {
                _buckets.TryRemove(stale, out _);
            }
        }

        _buckets.AddOrUpdate(source, key => TokenBucket.Full(Limits, now).Take(Limits, now, out _, out _), (key, b) => b.Take(Limits, now, out _, out _));
    }

    private static IPAddress? Source(HttpContext context) => context.Connection.RemoteIpAddress;
}
