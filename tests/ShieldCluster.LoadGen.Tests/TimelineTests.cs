using System.Diagnostics;
using ShieldCluster.LoadGen;

namespace ShieldCluster.LoadGen.Tests;

/// <summary>The stall figures of a phase: answers counted in bins over the measured window.</summary>
public class TimelineTests
{
    private static readonly long Start = 1_000 * Stopwatch.Frequency;

    /// <summary>A timestamp <paramref name="ms"/> milliseconds into the window.</summary>
    private static long At(double ms) => Start + (long)(ms * Stopwatch.Frequency / 1000);

    /// <summary>One answer every <paramref name="everyMs"/> from <paramref name="fromMs"/> to <paramref name="toMs"/>.</summary>
    private static IEnumerable<long> Steady(double fromMs, double toMs, double everyMs)
    {
        for (var t = fromMs + everyMs / 2; t < toMs; t += everyMs)
        {
            yield return At(t);
        }
    }

    [Fact]
    public void A_steady_window_has_no_stall_and_its_slowest_second_is_its_rate()
    {
        var timeline = Timeline.From(Steady(0, 10_000, 1), Start, At(10_000));

        Assert.Equal(100, timeline.Items.Length);
        Assert.All(timeline.Items, n => Assert.Equal(100, n));
        Assert.Equal(0, timeline.StalledSeconds);
        Assert.Equal(1_000, timeline.SlowestSecondRate);
    }

    [Fact]
    public void A_second_with_no_answers_is_a_stalled_second_and_the_slowest()
    {
        var answers = Steady(0, 4_000, 1).Concat(Steady(5_000, 10_000, 1));

        var timeline = Timeline.From(answers, Start, At(10_000));

        Assert.Equal(1.0, timeline.StalledSeconds);
        Assert.Equal(0, timeline.SlowestSecondRate);
        Assert.Equal(9_000, timeline.Items.Sum());
    }

    [Fact]
    public void A_slow_second_above_a_tenth_of_the_mean_is_slow_but_not_stalled()
    {
        // 4 s at 1,000/s, 1 s at 200/s, 5 s at 1,000/s: the mean bin is 92, the slow bins hold 20.
        var answers = Steady(0, 4_000, 1).Concat(Steady(4_000, 5_000, 5)).Concat(Steady(5_000, 10_000, 1));

        var timeline = Timeline.From(answers, Start, At(10_000));

        Assert.Equal(0, timeline.StalledSeconds);
        Assert.Equal(200, timeline.SlowestSecondRate);
    }

    [Fact]
    public void Answers_outside_the_window_are_not_counted_and_each_counts_its_items()
    {
        var answers = Steady(-500, 0, 1).Concat(Steady(0, 2_000, 10)).Concat(Steady(2_000, 2_500, 1));

        var timeline = Timeline.From(answers, Start, At(2_000), itemsEach: 32);

        Assert.Equal(20, timeline.Items.Length);
        Assert.Equal(200 * 32, timeline.Items.Sum());
        Assert.Equal(100 * 32, timeline.SlowestSecondRate);
    }

    [Fact]
    public void A_window_shorter_than_a_second_gives_its_whole_rate()
    {
        var timeline = Timeline.From(Steady(0, 500, 1), Start, At(500));

        Assert.Equal(5, timeline.Items.Length);
        Assert.Equal(1_000, timeline.SlowestSecondRate);
    }

    [Fact]
    public void An_empty_window_has_nothing_to_report()
    {
        var timeline = Timeline.From([], Start, Start);

        Assert.Empty(timeline.Items);
        Assert.Equal(0, timeline.StalledSeconds);
        Assert.Equal(0, timeline.SlowestSecondRate);
    }

    [Fact]
    public void The_timeline_survives_the_report_json()
    {
        var phase = new PhaseResult
        {
            Name = PhaseNames.Protected,
            Target = "server",
            Mode = "closed",
            Latency = LatencyStats.Empty,
            Timeline = new Timeline(100, [5, 0, 7]),
        };
        var report = Reports.Of(phase);

        var back = BenchmarkReport.FromJson(report.ToJson()).Phases.Single().Timeline;

        Assert.NotNull(back);
        Assert.Equal([5, 0, 7], back.Items);
        Assert.Equal(0.1, back.StalledSeconds);
        Assert.Contains("| 0.1 |", report.ToText(), StringComparison.Ordinal);
    }
}
