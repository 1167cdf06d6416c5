using ShieldCluster.LoadGen;
using Xunit.Abstractions;

namespace ShieldCluster.LoadGen.Tests;

/// <summary>
/// Benchmarks are not timed tests: CI only checks that the load generator builds and runs its short
/// smoke pass end to end (bare ONNX Runtime, then a real server with protection off, then one with
/// protection on), not what it measures.
/// </summary>
[Collection(ServerCollection.Name)]
public class SmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Smoke_pass_runs_every_phase_against_servers_it_starts()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var started = DateTime.UtcNow;

        var exit = await LoadGenApp.RunAsync(["--smoke", "--json"], stdout, stderr, timeout.Token);

        output.WriteLine(stderr.ToString());
        output.WriteLine($"took {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        Assert.True(exit == 0, $"exit code {exit}:\n{stderr}");
        var report = BenchmarkReport.FromJson(stdout.ToString());
        output.WriteLine(report.ToText());

        Assert.Equal(
            [PhaseNames.Bare, PhaseNames.Unprotected, PhaseNames.UnprotectedOpen, PhaseNames.Protected, PhaseNames.ProtectedOneKey, PhaseNames.ProtectedOpen],
            report.Phases.Select(p => p.Name));
        foreach (var phase in report.Phases)
        {
            Assert.True(phase.Ok > 0 && phase.Throughput > 0, $"{phase.Name}: no answered requests");
            var l = phase.Latency;
            Assert.True(l.P50Ms > 0 && l.P50Ms <= l.P95Ms && l.P95Ms <= l.P99Ms && l.P99Ms <= l.MaxMs, $"{phase.Name}: percentiles out of order: {l}");
            // The timeline covers the measured window in 100 ms bins and counts only answers inside it.
            // The window is 1 s asked, but as long as the generator's timer took: on 2 busy cores a
            // starting server can hold the generator's 1 s delay to several seconds (41 bins once in CI).
            var timeline = phase.Timeline;
            Assert.NotNull(timeline);
            Assert.True(phase.DurationSeconds >= 0.95, $"{phase.Name}: a window of {phase.DurationSeconds} s");
            var windowBins = (int)Math.Round(phase.DurationSeconds * 10);
            Assert.InRange(timeline.Items.Length, windowBins - 1, windowBins + 1);
            Assert.InRange(timeline.Items.Sum(), 1, phase.Ok * phase.Batch);
            // No faster than the window's first second (all of it when it is shorter). Not the mean over
            // all bins: an 11th, partial bin lowers that mean below every whole second's rate.
            var firstSecond = Math.Min(10, timeline.Items.Length);
            Assert.InRange(timeline.SlowestSecondRate, 0, (timeline.Items.Take(firstSecond).Sum() * 10.0 / firstSecond) + 0.1);
            // The generator's own collector pauses inside the window (a paused generator looks like a stalled server).
            Assert.NotNull(phase.Cpu);
            Assert.InRange(phase.Cpu.GeneratorGcPauseMs ?? -1, 0, (phase.DurationSeconds + 1) * 1000);
            if (phase.Mode == "closed")
            {
                // Nothing but answers: the bench plan has no rate limit, every request is valid.
                Assert.True(phase.Failed == 0, $"{phase.Name}: {string.Join(", ", phase.Statuses)}");
                Assert.Equal(4, phase.Concurrency);
            }
        }

        Assert.Equal(1, report.Phases.Single(p => p.Name == PhaseNames.ProtectedOneKey).Keys);
        Assert.Equal(4, report.Phases.Single(p => p.Name == PhaseNames.Protected).Keys);
        var open = report.Phases.Where(p => p.Mode == "open").ToList();
        Assert.All(open, p => Assert.Equal(open[0].OfferedRate, p.OfferedRate));
        // Each open loop's tail: every answer at or above its p99 (nearest rank: at least the answers
        // ranked from the p99 up, more where others tie with it), by 100 ms bins over the same window.
        Assert.All(open, p =>
        {
            Assert.NotNull(p.Tail);
            Assert.InRange(p.Tail.Counts.Length, p.Timeline!.Items.Length, p.Timeline.Items.Length + 1);
            Assert.Equal(p.Latency.P99Ms, p.Tail.ThresholdMs, 0.001);
            Assert.InRange(p.Tail.Counts.Sum(), p.Ok - (long)Math.Ceiling(0.99 * p.Ok) + 1, p.Ok);
            Assert.InRange(p.WindowStart!.Value, new DateTimeOffset(started), DateTimeOffset.UtcNow);
        });
        Assert.All(report.Phases.Where(p => p.Mode == "closed"), p => Assert.Null(p.Tail));
        Assert.Equal(Math.Round(report.Phases.Single(p => p.Name == PhaseNames.Unprotected).Throughput / 2, 1), open[0].OfferedRate!.Value, 0.2);

        // The demo model is calibrated for squeezing: no note that the protected server squeezed nothing.
        Assert.DoesNotContain(report.Notes, n => n.Contains("no feature-squeezing calibration", StringComparison.Ordinal));

        // Every ratio the issue asks for is computed (reported, not asserted).
        Assert.All(report.Ratios, r => Assert.NotNull(r.Value));
        Assert.Contains(report.Ratios, r => r.Name.StartsWith("protected / unprotected", StringComparison.Ordinal) && r.Target == ">= 0.80");
    }

    [Fact]
    public async Task Interleaved_rounds_keep_both_servers_and_alternate_which_goes_first()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exit = await LoadGenApp.RunAsync(["--smoke", "--repeat", "2", "--interleave", "--rewarm", "0.5", "--json"], stdout, stderr, timeout.Token);

        var log = stderr.ToString();
        output.WriteLine(log);
        Assert.True(exit == 0, $"exit code {exit}:\n{log}");
        var report = RepeatedReport.FromJson(stdout.ToString());
        Assert.True(report.Interleaved);
        Assert.Equal(2, report.Rounds.Count);
        Assert.Equal(
            [PhaseNames.Bare, PhaseNames.Unprotected, PhaseNames.Protected, PhaseNames.ProtectedOneKey, PhaseNames.UnprotectedOpen, PhaseNames.ProtectedOpen],
            report.Rounds[0].Phases.Select(p => p.Name));
        Assert.Equal(
            [PhaseNames.Bare, PhaseNames.Protected, PhaseNames.Unprotected, PhaseNames.ProtectedOneKey, PhaseNames.ProtectedOpen, PhaseNames.UnprotectedOpen],
            report.Rounds[1].Phases.Select(p => p.Name));

        // Each server was started and given its clients once, for both rounds.
        var lines = log.Split('\n');
        Assert.Equal(1, lines.Count(l => l.StartsWith("[unprotected] created", StringComparison.Ordinal)));
        Assert.Equal(1, lines.Count(l => l.StartsWith("[protected] created", StringComparison.Ordinal)));

        // Both servers served a closed loop before round 1 measured either, once in the run.
        var warmed = lines.Select((l, i) => (l, i)).Where(x => x.l.Contains("warm-up before round 1", StringComparison.Ordinal)).ToList();
        Assert.Equal(["[unprotected] warm-up before round 1", "[protected] warm-up before round 1"], warmed.Select(x => x.l[..x.l.IndexOf(':', StringComparison.Ordinal)]));
        var firstMeasured = Array.FindIndex(lines, l => l.StartsWith($"[{PhaseNames.Unprotected}] ", StringComparison.Ordinal) && l.Contains("items/s", StringComparison.Ordinal));
        Assert.True(firstMeasured > warmed[1].i, $"the first measured server phase (line {firstMeasured}) came before both warm-ups (lines {warmed[0].i}, {warmed[1].i})");
        Assert.Contains(report.Rounds[0].Notes, n => n.Contains("before this round each server served a closed loop", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Rounds[1].Notes, n => n.Contains("before this round", StringComparison.Ordinal));
        foreach (var round in report.Rounds)
        {
            Assert.All(round.Phases, p => Assert.True(p.Ok > 0, $"{p.Name}: no answered requests"));
            Assert.All(round.Phases.Where(p => p.Mode == "closed"), p => Assert.True(p.Failed == 0, $"{p.Name}: {string.Join(", ", p.Statuses)}"));
            // Each round's open loops run at half of that round's unprotected peak.
            var unprotected = round.Phases.Single(p => p.Name == PhaseNames.Unprotected).Throughput;
            Assert.All(round.Phases.Where(p => p.Mode == "open"), p => Assert.Equal(Math.Round(unprotected / 2, 1), p.OfferedRate!.Value, 0.2));
            Assert.All(round.Ratios, r => Assert.NotNull(r.Value));
        }
    }

    [Fact]
    public async Task A_bad_command_line_exits_2_and_names_the_option()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(2, await LoadGenApp.RunAsync(["--concurrency", "zero"], stdout, stderr, CancellationToken.None));
        Assert.Contains("--concurrency", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Smoke_preset_is_short_and_explicit_options_win()
    {
        var smoke = LoadGenOptions.Parse(["--smoke"]);
        Assert.Equal((1.0, 1.0, 4), (smoke.DurationSeconds, smoke.WarmupSeconds, smoke.Concurrency));
        var custom = LoadGenOptions.Parse(["--smoke", "--duration", "3", "--clients", "9", "--schedule", "uniform", "--server-env", "A=b=c"]);
        Assert.Equal((3.0, 9, Schedule.Uniform), (custom.DurationSeconds, custom.EffectiveClients, custom.Schedule));
        Assert.Equal(new KeyValuePair<string, string>("A", "b=c"), Assert.Single(custom.ServerEnvironment));
        Assert.Throws<ArgumentException>(() => LoadGenOptions.Parse(["--protected-url", "http://127.0.0.1:1"]));
    }

    [Fact]
    public void Request_bodies_carry_the_images_as_the_samples_write_them()
    {
        var root = LoadGenApp.FindRepositoryRoot()!;
        var pool = ImagePool.Load(Path.Combine(root, "models", "fashion-mnist"));
        var sample = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(root, "models", "fashion-mnist", "samples", "test-0-ankle-boot.json")));
        var body = System.Text.Json.JsonDocument.Parse(pool.Body(0));
        var expected = sample.RootElement.GetProperty("inputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var actual = body.RootElement.GetProperty("inputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(expected, actual);
        var floats = new float[ImagePool.Pixels];
        pool.Fill(0, floats);
        Assert.Equal(expected.Select(v => (float)v), floats);
    }
}
