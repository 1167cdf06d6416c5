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
    /// that the write is due a uniform part of (<paramref name="interval"/> less one
    /// <paramref name="tick"/>) after <paramref name="now"/>. A history is written only at the write
    /// timer's ticks (<see cref="Options.ProtectionOptions.StateWriteInterval"/> apart), which can come
    /// up to one tick after the write is due: so the write lands at most one
    /// <paramref name="interval"/> after <paramref name="now"/>, as without the spread. (Spreading
    /// over the whole interval let a new activation's first write come a tick later than that; a
    /// silo killed in that tick lost more history than the stated bound, in CI's failover test.)
    /// </summary>
    public static long HistoryWrittenAt(long now, TimeSpan interval, TimeSpan tick, Random random)
    {
        var length = (long)interval.TotalMilliseconds;
        var slack = Math.Min(length, (long)Math.Ceiling(tick.TotalMilliseconds));
        return now - slack - (long)((length - slack) * random.NextDouble());
    }
}
