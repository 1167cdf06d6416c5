namespace ShieldCluster.Protection.RateLimiting;

/// <summary>
/// An immutable token bucket: <see cref="Tokens"/> as of <see cref="UpdatedAt"/>. Every operation
/// takes the current time and returns the next bucket, so the caller owns storage and the clock.
/// </summary>
public readonly record struct TokenBucket(double Tokens, DateTimeOffset UpdatedAt)
{
    /// <summary>A full bucket at <paramref name="now"/>.</summary>
    public static TokenBucket Full(BucketLimits limits, DateTimeOffset now) => new(limits.Burst, now);

    /// <summary>The bucket refilled up to <paramref name="now"/>. A clock that moved backwards adds nothing.</summary>
    public TokenBucket Refill(BucketLimits limits, DateTimeOffset now)
    {
        if (now <= UpdatedAt)
        {
            return this with { Tokens = Math.Min(Tokens, limits.Burst) };
        }

        var added = (now - UpdatedAt).TotalSeconds * limits.RequestsPerSecond;
        return new TokenBucket(Math.Min(limits.Burst, Tokens + added), now);
    }

    /// <summary>Whether one token is available at <paramref name="now"/> (after refilling).</summary>
    public bool CanTake(BucketLimits limits, DateTimeOffset now) => Refill(limits, now).Tokens >= 1.0;

    /// <summary>
    /// Takes one token if one is available at <paramref name="now"/>; otherwise leaves the bucket
    /// as it is and says how long until one is.
    /// </summary>
    public TokenBucket Take(BucketLimits limits, DateTimeOffset now, out bool taken, out TimeSpan retryAfter)
    {
        var refilled = Refill(limits, now);
        if (refilled.Tokens >= 1.0)
        {
            taken = true;
            retryAfter = TimeSpan.Zero;
            return refilled with { Tokens = refilled.Tokens - 1.0 };
        }

        taken = false;
        retryAfter = TimeSpan.FromSeconds((1.0 - refilled.Tokens) / limits.RequestsPerSecond);
        return refilled;
    }

    /// <summary>How long until the bucket is full again, as of <paramref name="now"/>.</summary>
    public TimeSpan TimeToFull(BucketLimits limits, DateTimeOffset now)
    {
        var refilled = Refill(limits, now);
        return TimeSpan.FromSeconds(Math.Max(0, limits.Burst - refilled.Tokens) / limits.RequestsPerSecond);
    }
}
