using Microsoft.Extensions.Time.Testing;
using ShieldCluster.Protection.RateLimiting;

namespace ShieldCluster.Protection.Tests.RateLimiting;

public class TokenBucketTests
{
    private static readonly BucketLimits Limits = new(RequestsPerSecond: 20, Burst: 40);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Take_FullBucket_AdmitsExactlyBurstThenRefuses()
    {
        var bucket = TokenBucket.Full(Limits, _time.GetUtcNow());
        for (var i = 0; i < Limits.Burst; i++)
        {
            bucket = bucket.Take(Limits, _time.GetUtcNow(), out var taken, out _);
            Assert.True(taken, $"request {i + 1} of the burst was refused");
        }

        bucket.Take(Limits, _time.GetUtcNow(), out var last, out var retryAfter);
        Assert.False(last);
        Assert.Equal(TimeSpan.FromSeconds(1.0 / Limits.RequestsPerSecond), retryAfter);
    }

    [Fact]
    public void Take_EmptyBucket_RefillsAtTheConfiguredRate()
    {
        var bucket = new TokenBucket(0, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromMilliseconds(49));
        bucket.Take(Limits, _time.GetUtcNow(), out var early, out var retryAfter);
        Assert.False(early);
        Assert.True(retryAfter > TimeSpan.Zero && retryAfter <= TimeSpan.FromMilliseconds(1.01));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        bucket.Take(Limits, _time.GetUtcNow(), out var onTime, out _);
        Assert.True(onTime);
    }

    [Fact]
    public void Refill_LongIdle_CapsAtBurst()
    {
        var bucket = new TokenBucket(3, _time.GetUtcNow());
        _time.Advance(TimeSpan.FromHours(5));
        Assert.Equal(Limits.Burst, bucket.Refill(Limits, _time.GetUtcNow()).Tokens);
    }

    [Fact]
    public void Refill_ClockMovesBackwards_AddsNothing()
    {
        var bucket = new TokenBucket(2.5, _time.GetUtcNow());
        var refilled = bucket.Refill(Limits, _time.GetUtcNow().AddMinutes(-10));
        Assert.Equal(2.5, refilled.Tokens);
        Assert.Equal(bucket.UpdatedAt, refilled.UpdatedAt);
    }

    [Fact]
    public void TimeToFull_AfterSpendingTen_IsHalfASecond()
    {
        var bucket = new TokenBucket(30, _time.GetUtcNow());
        Assert.Equal(TimeSpan.FromSeconds(0.5), bucket.TimeToFull(Limits, _time.GetUtcNow()));
    }

    [FsCheck.Xunit.Property]
    public bool Take_OverAnyWindow_NeverAdmitsMoreThanBurstPlusRateTimesWindow(byte[] gapsInMs)
    {
        var start = _time.GetUtcNow();
        var now = start;
        var bucket = TokenBucket.Full(Limits, now);
        var admitted = 0;
        foreach (var gap in gapsInMs)
        {
            now = now.AddMilliseconds(gap);
            bucket = bucket.Take(Limits, now, out var taken, out _);
            admitted += taken ? 1 : 0;
        }

        var window = (now - start).TotalSeconds;
        return admitted <= Limits.Burst + (window * Limits.RequestsPerSecond) + 1e-9;
    }
}
