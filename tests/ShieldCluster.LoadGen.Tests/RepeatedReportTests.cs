using ShieldCluster.LoadGen;

namespace ShieldCluster.LoadGen.Tests;

/// <summary><c>--repeat</c>: rounds of the same selection, each round's ratios and their medians.</summary>
public class RepeatedReportTests
{
    /// <summary>A round whose ratios come from real phase figures: unprotected and protected closed loops, and the two open loops' p99s.</summary>
    private static BenchmarkReport Round(double unprotected, double @protected, double p99Off, double p99On)
    {
        static PhaseResult Phase(string name, string mode, double throughput, double p99) => new()
        {
            Name = name,
            Target = "server",
            Mode = mode,
            Ok = 1_000,
            Throughput = throughput,
            Latency = LatencyStats.Empty with { Count = 1_000, P50Ms = p99 / 4, P99Ms = p99 },
        };

        PhaseResult[] phases =
        [
            Phase(PhaseNames.Unprotected, "closed", unprotected, 5),
            Phase(PhaseNames.UnprotectedOpen, "open", unprotected / 2, p99Off),
            Phase(PhaseNames.Protected, "closed", @protected, 7),
            Phase(PhaseNames.ProtectedOpen, "open", unprotected / 2, p99On),
        ];
        return Reports.Of(phases[0]) with { Phases = phases, Ratios = BenchmarkReport.ComputeRatios(phases) };
    }

    [Fact]
    public void The_medians_are_the_middle_rounds_and_are_judged_against_the_targets()
    {
        var repeated = new RepeatedReport
        {
            Command = "loadgen --repeat 3",
            Rounds = [Round(8_000, 5_600, 6, 14), Round(8_000, 6_800, 6, 6.5), Round(8_000, 6_560, 6, 8)],
        };

        var throughput = repeated.Medians.Single(r => r.Name == "protected / unprotected throughput");
        var p99 = repeated.Medians.Single(r => r.Name.StartsWith("p99 added", StringComparison.Ordinal));

        // 0.70, 0.85, 0.82: the median 0.82 meets 0.80 though one round does not.
        Assert.Equal(0.82, throughput.Value);
        Assert.True(throughput.Met);
        Assert.StartsWith("median of 3 round(s)", throughput.Definition, StringComparison.Ordinal);
        // +8, +0.5, +2 ms: the median +2 misses 1 ms though one round meets it.
        Assert.Equal(2, p99.Value);
        Assert.False(p99.Met);
        // Ratios no round could compute (no one-key phase) stay without a value or a verdict.
        var oneKey = repeated.Medians.Single(r => r.Name.StartsWith("one key", StringComparison.Ordinal));
        Assert.Null(oneKey.Value);
        Assert.Null(oneKey.Met);
    }

    [Fact]
    public void An_even_number_of_rounds_takes_the_mean_of_the_middle_two()
    {
        var repeated = new RepeatedReport
        {
            Command = "loadgen --repeat 2",
            Rounds = [Round(8_000, 6_000, 6, 7), Round(8_000, 6_640, 6, 9)],
        };

        Assert.Equal(0.79, repeated.Medians.Single(r => r.Name == "protected / unprotected throughput").Value);
        Assert.Equal(2, repeated.Medians.Single(r => r.Name.StartsWith("p99 added", StringComparison.Ordinal)).Value);
    }

    [Fact]
    public void The_report_lists_every_round_and_survives_its_json()
    {
        var repeated = new RepeatedReport
        {
            Command = "loadgen --repeat 3",
            Rounds = [Round(8_000, 5_600, 6, 14), Round(8_000, 6_800, 6, 6.5), Round(8_000, 6_560, 6, 8)],
        };

        var text = repeated.ToText();
        var back = RepeatedReport.FromJson(repeated.ToJson());

        Assert.Contains("## Round 3 of 3", text, StringComparison.Ordinal);
        Assert.Contains("| protected / unprotected throughput | 0.7 | 0.85 | 0.82 | 0.82 | >= 0.80 | met |", text, StringComparison.Ordinal);
        Assert.Contains("| p99 added by protection at the fixed offered load (ms) | 8 | 0.5 | 2 | 2 | <= 1 ms | NOT met |", text, StringComparison.Ordinal);
        Assert.Equal(3, back.Rounds.Count);
        Assert.Equal(repeated.Medians.Select(r => r.Value), back.Medians.Select(r => r.Value));
    }

    [Theory]
    [InlineData(">= 0.80", 0.80, true)]
    [InlineData(">= 0.80", 0.799, false)]
    [InlineData("<= 1 ms", 1.0, true)]
    [InlineData("<= 1 ms", 1.001, false)]
    public void Targets_are_read_with_their_bounds_included(string target, double value, bool met) =>
        Assert.Equal(met, BenchmarkReport.Meets(target, value));

    [Fact]
    public void Repeat_takes_one_to_twenty_rounds()
    {
        Assert.Equal(1, LoadGenOptions.Parse([]).Repeat);
        Assert.Equal(3, LoadGenOptions.Parse(["--repeat", "3"]).Repeat);
        Assert.Contains("1 to 20", Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--repeat", "21"])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--repeat", "0"]));
    }

    [Fact]
    public void Interleave_needs_two_rounds_and_rewarm_is_a_duration()
    {
        var o = LoadGenOptions.Parse(["--repeat", "4", "--interleave", "--rewarm", "2.5"]);
        Assert.Equal((4, true, 2.5), (o.Repeat, o.Interleave, o.RewarmSeconds));
        Assert.Equal((false, 5.0), (LoadGenOptions.Parse([]).Interleave, LoadGenOptions.Parse([]).RewarmSeconds));
        Assert.Contains("--repeat 2", Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--interleave"])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--repeat", "2", "--interleave", "--rewarm", "-1"]));
    }

    [Fact]
    public void An_interleaved_report_says_so_and_keeps_it_in_its_json()
    {
        var repeated = new RepeatedReport { Command = "loadgen --repeat 2 --interleave", Rounds = [Round(1_000, 800, 3, 4), Round(1_000, 900, 3, 4)], Interleaved = true };
        Assert.Contains("Interleaved: both servers started once", repeated.ToText(), StringComparison.Ordinal);
        Assert.True(RepeatedReport.FromJson(repeated.ToJson()).Interleaved);
        Assert.Contains("afresh", (repeated with { Interleaved = false }).ToText(), StringComparison.Ordinal);
    }
}
