namespace ShieldCluster.Protection.RateLimiting;

/// <summary>
/// Items used on one UTC day. A new UTC day starts from zero; a batch of N items counts N.
/// </summary>
public readonly record struct DailyQuota(DateOnly Day, long Used)
{
    /// <summary>The quota as seen at <paramref name="now"/>: zero used if the UTC day has changed.</summary>
    public DailyQuota At(DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        return today == Day ? this : new DailyQuota(today, 0);
    }

    /// <summary>Items left today under <paramref name="limit"/>.</summary>
    public long Remaining(long limit, DateTimeOffset now) => Math.Max(0, limit - At(now).Used);

    /// <summary>Whether <paramref name="items"/> more fit under <paramref name="limit"/> today.</summary>
    public bool Fits(long limit, long items, DateTimeOffset now) => At(now).Used + items <= limit;

    /// <summary>The quota with <paramref name="items"/> more used today.</summary>
    public DailyQuota Consume(long items, DateTimeOffset now)
    {
        var current = At(now);
        return current with { Used = current.Used + items };
    }

    /// <summary>Time from <paramref name="now"/> until the next UTC midnight, when the quota resets.</summary>
    public static TimeSpan UntilReset(DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        var midnight = new DateTimeOffset(utc.Date.AddDays(1), TimeSpan.Zero);
        return midnight - utc;
    }
}
