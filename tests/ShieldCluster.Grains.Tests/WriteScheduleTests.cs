using ShieldCluster.Grains.Clients;

namespace ShieldCluster.Grains.Tests;

/// <summary>
/// Where a client grain's periodic writes start: within one interval, never later (the crash
/// bounds), and spread over all of it (grains activated together do not write in step).
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

    [Theory]
    [MemberData(nameof(Intervals))]
    public void HistoryWrittenAt_MakesTheFirstWriteDueWithinOneInterval_AndSpreadsOverIt(TimeSpan interval)
    {
        var random = new Random(29);
        const long Now = 123_456_789;
        var length = (long)interval.TotalMilliseconds;

        // The first write is due when now - writtenAt reaches the interval: after 'length - (Now - writtenAt)' ms.
        var dueAfter = Enumerable.Range(0, 10_000).Select(_ => length - (Now - WriteSchedule.HistoryWrittenAt(Now, interval, random))).ToList();

        Assert.All(dueAfter, due => Assert.InRange(due, 0, length));
        // Whole milliseconds: within 1% of either end, or one millisecond for the shortest interval.
        var slack = Math.Max(1, length / 100);
        Assert.True(dueAfter.Min() <= slack, $"earliest {dueAfter.Min()} ms of {length}");
        Assert.True(dueAfter.Max() >= length - slack, $"latest {dueAfter.Max()} ms of {length}");
        Assert.InRange(dueAfter.Average() / length, 0.45, 0.55);
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
        var writtenAt = WriteSchedule.HistoryWrittenAt(10_000, interval, random);

        Assert.InRange(due, TimeSpan.FromTicks(1), interval);
        Assert.Equal(Math.Max(1, Math.Ceiling(interval.Ticks * (1 - draw))), due.Ticks);
        Assert.InRange(writtenAt, 10_000 - 1_000, 10_000);
    }

    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }
}
