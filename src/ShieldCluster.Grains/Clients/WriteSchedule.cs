namespace ShieldCluster.Grains.Clients;

/// <summary>
/// Where a client grain's periodic writes start. Grains activated together (a silo's start, a load
/// test's clients, a burst of new keys) would otherwise write in step for as long as they live:
/// every one at the same tick of each <see cref="Options.ProtectionOptions.StateWriteInterval"/>, and
/// every history in the same second of each <see cref="Options.ProtectionOptions.HistoryWriteInterval"/>.
/// Each grain starts at a random point within one interval instead: never later than the interval,
/// so what a crash can lose stays within the bounds the options state.
/// </summary>
internal static class WriteSchedule
{
    /// <summary>The write timer's first due time: uniform in (0, <paramref name="interval"/>].</summary>
    public static TimeSpan FirstDue(TimeSpan interval, Random random) =>
        TimeSpan.FromTicks(Math.Max(1, (long)Math.Ceiling(interval.Ticks * (1 - random.NextDouble()))));

    /// <summary>
    /// The time (in <see cref="Environment.TickCount64"/> milliseconds) to take as the last history
    /// write at activation, and at a history's first change after a whole interval without one, so
    /// that the next write is due a uniform part of <paramref name="interval"/> after
    /// <paramref name="now"/>, never later than one interval.
    /// </summary>
    public static long HistoryWrittenAt(long now, TimeSpan interval, Random random) =>
        now - (long)(interval.TotalMilliseconds * random.NextDouble());
}
