using System.Diagnostics;
using ShieldCluster.LoadGen;

namespace ShieldCluster.LoadGen.Tests;

/// <summary>Where an open loop's tail came from: its slowest answers by the bin they were scheduled in.</summary>
public class TailTimelineTests
{
    private static readonly long Start = 1_000 * Stopwatch.Frequency;

    private static long Ticks(double ms) => (long)(ms * Stopwatch.Frequency / 1000);

    /// <summary>
    /// One request every millisecond for <paramref name="windowMs"/>, each taking 1 ms, except those
    /// scheduled where <paramref name="slow"/> says (then 20 ms): (latency, completed at) pairs.
    /// </summary>
    private static (List<long> Latencies, List<long> CompletedAt) Requests(int windowMs, Func<int, bool> slow)
    {
        var latencies = new List<long>();
        var completed = new List<long>();
        for (var ms = 0; ms < windowMs; ms++)
        {
            var latency = Ticks(slow(ms) ? 20 : 1);
            latencies.Add(latency);
            completed.Add(Start + Ticks(ms + 0.5) + latency);
        }

        return (latencies, completed);
    }

    [Fact]
    public void A_tail_spread_over_the_window_is_half_in_half_the_bins_and_follows_no_period()
    {
        // Every 97th request slow: no period of whole bins, every bin alike.
        var (latencies, completed) = Requests(20_000, ms => ms % 97 == 0);

        var tail = TailTimeline.From(latencies, completed, Ticks(20), Start, Start + Ticks(20_000));

        Assert.Equal(200, tail.Counts.Length);
        Assert.Equal(207, tail.Counts.Sum());
        Assert.InRange(tail.HalfShare, 0.4, 0.55);
        Assert.All(tail.Folded.Values, v => Assert.InRange(v, 0.8, 1.6));
        Assert.Equal(["1s", "2s", "5s"], tail.Folded.Keys.Order());
        Assert.Equal(20, tail.ThresholdMs);
    }

    [Fact]
    public void A_tail_from_a_pause_every_two_seconds_sits_in_few_bins_and_at_one_point_of_that_period()
    {
        // The first 50 ms of every second second slow: 10 bins of 200 hold the whole tail.
        var (latencies, completed) = Requests(20_000, ms => ms % 2_000 < 50);

        var tail = TailTimeline.From(latencies, completed, Ticks(10), Start, Start + Ticks(20_000));

        Assert.Equal(500, tail.Counts.Sum());
        Assert.Equal(0.025, tail.HalfShare);
        Assert.Equal(20, tail.Folded["2s"]);
        Assert.Equal(10, tail.Folded["1s"]);
        // Every 5 s period holds the pause at two of its points (0 and 2 s, or 1 and 3 s...): not one.
        Assert.InRange(tail.Folded["5s"], 10, 30);
    }

    [Fact]
    public void Answers_under_the_threshold_and_those_scheduled_outside_the_window_are_not_counted()
    {
        var latencies = new List<long> { Ticks(30), Ticks(5), Ticks(30), Ticks(30) };
        // Scheduled at 100 ms, 150 ms (fast), before the window, at its end.
        var completed = new List<long> { Start + Ticks(130), Start + Ticks(155), Start + Ticks(10), Start + Ticks(1_030) };

        var tail = TailTimeline.From(latencies, completed, Ticks(30), Start, Start + Ticks(1_000));

        Assert.Equal(10, tail.Counts.Length);
        Assert.Equal([0, 1, 0, 0, 0, 0, 0, 0, 0, 0], tail.Counts);
        // A window shorter than two periods has no folded figure for that period.
        Assert.Empty(tail.Folded);
    }

    [Fact]
    public void An_empty_tail_has_no_figures_and_mismatched_lists_are_refused()
    {
        var tail = TailTimeline.From([], [], Ticks(1), Start, Start + Ticks(10_000));

        Assert.Equal(0, tail.HalfShare);
        Assert.Empty(tail.Folded);
        Assert.Throws<ArgumentOutOfRangeException>(() => TailTimeline.From([Ticks(1)], [], Ticks(1), Start, Start + Ticks(1_000)));
    }

    [Fact]
    public void The_tail_survives_the_report_json_and_is_in_the_text()
    {
        var (latencies, completed) = Requests(10_000, ms => ms % 1_000 < 20);
        var phase = new PhaseResult
        {
            Name = PhaseNames.ProtectedOpen,
            Target = "server",
            Mode = "open",
            Latency = LatencyStats.Empty,
            Tail = TailTimeline.From(latencies, completed, Ticks(20), Start, Start + Ticks(10_000)),
        };
        var report = Reports.Of(phase);

        var back = BenchmarkReport.FromJson(report.ToJson()).Phases.Single().Tail;

        Assert.NotNull(back);
        Assert.Equal(phase.Tail.Counts, back.Counts);
        Assert.Equal(20, back.ThresholdMs);
        Assert.Equal(10, back.Folded["1s"]);
        Assert.Contains("| protected-open | 20.00 | 200 | 5.0 % | 10.00 | 10.00 | 10.00 |", report.ToText(), StringComparison.Ordinal);
    }
}
