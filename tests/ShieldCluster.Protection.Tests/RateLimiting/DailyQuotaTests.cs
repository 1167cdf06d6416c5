using ShieldCluster.Protection.RateLimiting;

namespace ShieldCluster.Protection.Tests.RateLimiting;

public class DailyQuotaTests
{
    private static readonly DateTimeOffset LateEvening = new(2026, 11, 25, 23, 59, 30, TimeSpan.Zero);

    [Fact]
    public void Consume_CountsItemsNotRequests()
    {
        var quota = new DailyQuota(default, 0).Consume(64, LateEvening).Consume(1, LateEvening);
        Assert.Equal(65, quota.Used);
        Assert.Equal(35, quota.Remaining(100, LateEvening));
    }

    [Fact]
    public void Fits_BatchThatWouldCrossTheLimit_DoesNotFit()
    {
        var quota = new DailyQuota(DateOnly.FromDateTime(LateEvening.UtcDateTime), 90);
        Assert.True(quota.Fits(100, 10, LateEvening));
        Assert.False(quota.Fits(100, 11, LateEvening));
    }

    [Fact]
    public void At_AfterUtcMidnight_StartsFromZero()
    {
        var quota = new DailyQuota(DateOnly.FromDateTime(LateEvening.UtcDateTime), 100);
        Assert.False(quota.Fits(100, 1, LateEvening));
        var nextDay = LateEvening.AddSeconds(31);
        Assert.True(quota.Fits(100, 1, nextDay));
        Assert.Equal(0, quota.At(nextDay).Used);
    }

    [Fact]
    public void At_MidnightInAnotherTimeZone_DoesNotReset()
    {
        // 00:30 in UTC+2 is still 22:30 UTC on the same UTC day.
        var local = new DateTimeOffset(2026, 11, 26, 0, 30, 0, TimeSpan.FromHours(2));
        var quota = new DailyQuota(new DateOnly(2026, 11, 25), 7);
        Assert.Equal(7, quota.At(local).Used);
    }

    [Fact]
    public void UntilReset_IsTimeToNextUtcMidnight()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), DailyQuota.UntilReset(LateEvening));
        Assert.Equal(TimeSpan.FromHours(24), DailyQuota.UntilReset(new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero)));
    }
}
