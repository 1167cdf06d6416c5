using ShieldCluster.Grains.Clients;

namespace ShieldCluster.Grains.Tests;

/// <summary>
/// Where a client grain's periodic writes start: within one interval, never later (the crash
/// bounds), and spread over it (grains activated together do not write in step); a history write,
/// carried out at the next write tick, is due early enough for that tick to come within the interval.
/// </summary>
public class WriteScheduleTests
{
    public static TheoryData<TimeSpan> Intervals => [TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10)];

    [Theory]
    [MemberData(nameof(Intervals))]
    public void FirstDue_LiesWithinOneInterval_AndSpreadsOverIt(TimeSpan interval)
    {
        var random = new Random(17);
        var draws = Enumerable.Range(0, 10_000).Select(_ => WriteSchedule.FirstDue(interval, random)).ToList();

        Assert.All(draws, due => Assert.InRange(due, TimeSpan.FromTicks(1), interval));
        Assert.True(draws.Min() < interval * 0.01, $"earliest {draws.Min()} of {interval}");
        Assert.True(draws.Max() > interval * 0.99, $"latest {draws.Max()} of {interval}");
        Assert.InRange(draws.Average(d => d.Ticks) / interval.Ticks, 0.47, 0.53);
    }

    public static TheoryData<TimeSpan, TimeSpan> HistoryIntervals => new()
    {
        { TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1) },
        { TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(1) },
        { TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(10) },
        { TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(1500) },
    };

    [Theory]
    [MemberData(nameof(HistoryIntervals))]
    public void HistoryWrittenAt_LeavesOneTickForTheTimer_AndSpreadsTheRestOfTheInterval(TimeSpan interval, TimeSpan tick)
    {
        var random = new Random(29);
        const long Now = 123_456_789;
        var length = (long)interval.TotalMilliseconds;
        var tickLength = (long)tick.TotalMilliseconds;

        // The write is due when now - writtenAt reaches the interval: 'length - (Now - writtenAt)' ms
        // from now. It is carried out at the first tick from then, up to one tick later: due at
        // 'length - tick' at the latest, it lands within one interval.
        var dueAfter = Enumerable.Range(0, 10_000).Select(_ => length - (Now - WriteSchedule.HistoryWrittenAt(Now, interval, tick, random))).ToList();

        Assert.All(dueAfter, due => Assert.InRange(due, 0, length - tickLength));
        // Whole milliseconds: within 1% of either end, or one millisecond for the shortest spread.
        var spread = length - tickLength;
        var slack = Math.Max(1, spread / 100);
        Assert.True(dueAfter.Min() <= slack, $"earliest {dueAfter.Min()} ms of {spread}");
        Assert.True(dueAfter.Max() >= spread - slack, $"latest {dueAfter.Max()} ms of {spread}");
        Assert.InRange(dueAfter.Average() / spread, 0.45, 0.55);
    }

    [Theory]
    [InlineData(1_000, 1_000)]
    [InlineData(1_000, 5_000)]
    [InlineData(10, 1_000)]
    public void HistoryWrittenAt_WithATickAsLongAsTheInterval_IsDueAtOnce(long intervalMs, long tickMs)
    {
        // No room to spread: due now, written at the next tick (which a history never beats).
        var writtenAt = WriteSchedule.HistoryWrittenAt(50_000, TimeSpan.FromMilliseconds(intervalMs), TimeSpan.FromMilliseconds(tickMs), new Random(3));

        Assert.Equal(50_000 - intervalMs, writtenAt);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.99999999999)]
    public void TheExtremeDraws_StayInsideTheBounds(double draw)
    {
        var interval = TimeSpan.FromSeconds(1);
        var random = new FixedRandom(draw);

        var due = WriteSchedule.FirstDue(interval, random);
        var writtenAt = WriteSchedule.HistoryWrittenAt(10_000, TimeSpan.FromSeconds(5), interval, random);

        Assert.InRange(due, TimeSpan.FromTicks(1), interval);
        Assert.Equal(Math.Max(1, Math.Ceiling(interval.Ticks * (1 - draw))), due.Ticks);
        // Due between 0 and 4 s from now: 1 s to 5 s ago.
        Assert.InRange(writtenAt, 10_000 - 5_000, 10_000 - 1_000);
        Assert.Equal(10_000 - 1_000 - (long)(4_000 * draw), writtenAt);
    }

    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }
}
