using ShieldCluster.RedTeam.Evaluation;

namespace ShieldCluster.RedTeam.Tests;

public sealed class RunnerTests
{
    [Fact]
    public async Task Protected_rows_are_judged_against_the_baseline_and_detection_read_from_reports()
    {
        var baseline = new InProcessTarget(SyntheticData.Victim, name: "baseline");
        var protectedTarget = new InProcessTarget(SyntheticData.Victim, blockAfter: 25, name: "protected");
        var runner = new EvaluationRunner(SyntheticData.Data, protectedTarget, baseline,
            new EvaluationOptions { Attacks = ["simba", "square"], Scale = AttackScale.Small, Seed = 5 }, TimeProvider.System);
        var updates = new List<EvaluationProgress>();
        var report = await runner.RunAsync(new SyncProgress(updates.Add), CancellationToken.None);

        Assert.True(report.Complete);
        Assert.Equal(["simba@baseline", "square@baseline", "simba@protected", "square@protected"], runner.Steps());
        var simbaBaseline = report.Attacks.Single(a => a.Attack == "simba" && a.Target == "baseline");
        var simbaProtected = report.Attacks.Single(a => a.Attack == "simba" && a.Target == "protected");
        Assert.True(simbaBaseline.GoalReached, simbaBaseline.Summary);
        Assert.False(simbaBaseline.Detected);
        Assert.Null(simbaBaseline.Validity);
        Assert.True(simbaProtected.Detected);
        Assert.Equal("blocked", simbaProtected.Enforcement);
        Assert.Equal(26, simbaProtected.QueriesToFirstRefusal);
        Assert.Equal("valid", simbaProtected.Validity);
        Assert.Contains(updates, u => u.Key == "simba@protected" && u.Finished);
    }

    [Fact]
    public void Validate_flags_attacks_that_failed_on_the_baseline()
    {
        var rows = new List<AttackResult>
        {
            new() { Attack = "a", Target = "baseline", GoalReached = false },
            new() { Attack = "a", Target = "protected", GoalReached = false },
            new() { Attack = "b", Target = "baseline", GoalReached = true },
            new() { Attack = "b", Target = "protected", GoalReached = false },
        };
        var judged = EvaluationRunner.Validate(rows, hasBaseline: true);
        Assert.Equal("invalid (no baseline success)", judged[1].Validity);
        Assert.Equal("valid", judged[3].Validity);
        Assert.Equal("no baseline", EvaluationRunner.Validate(rows, hasBaseline: false)[1].Validity);
    }

    [Fact]
    public void Unknown_attack_names_are_refused()
    {
        Assert.Throws<ArgumentException>(() => AttackCatalog.Create(["simba", "nope"], AttackScale.Small));
        Assert.Equal(["transfer-fgsm", "transfer-pgd", "simba"], AttackCatalog.Create(["simba", "transfer"], AttackScale.Small).Select(a => a.Name).ToArray());
    }

    private sealed class SyncProgress(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value)
        {
            lock (this)
            {
                report(value);
            }
        }
    }
}
