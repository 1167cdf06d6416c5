using System.Security.Cryptography;
using System.Text;
using ShieldCluster.RedTeam.Data;
using ShieldCluster.RedTeam.Evaluation;
using ShieldCluster.RedTeam.Target;
using ShieldCluster.Testing;
using Xunit.Abstractions;

namespace ShieldCluster.RedTeam.Tests;

/// <summary>
/// The scaled-down red-team evaluation, end to end: two real server processes on loopback (one
/// protected, one with protection off as the baseline), every attack and the honest clients through
/// the real HTTP API, fixed seeds. Valid only where each attack first succeeds against the baseline.
/// </summary>
public class EndToEndEvaluationTests(ITestOutputHelper output)
{
    private const string AdminKey = "end-to-end-admin-key";

    private static Dictionary<string, string> Environment(bool protection) => new()
    {
        ["Shield__Admins__redteam__ApiKeySha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey))),
        ["Shield__Admins__redteam__Role"] = "security",
        ["Shield__Clients__unused__ApiKeySha256"] = new string('0', 64),
        // The attackers' plan: no rate limit to wait on, and an extraction budget scaled down with the attacks.
        ["Shield__Plans__attacker__RequestsPerSecond"] = "100000",
        ["Shield__Plans__attacker__Burst"] = "100000",
        ["Shield__Plans__attacker__DailyQuota"] = "100000000",
        ["Shield__Plans__attacker__Risk__ExtractionBudget"] = "300",
        ["Shield__Protection__Enabled"] = protection ? "true" : "false",
        ["Logging__LogLevel__Default"] = "Warning",
    };

    [Fact]
    public async Task SmallEvaluation_EveryAttackValidAndDetected_NoHonestClientFlagged()
    {
        await using var protectedServer = ServerProcess.Start(Environment(protection: true));
        await using var baselineServer = ServerProcess.Start(Environment(protection: false));
        using var http = new HttpClient();
        await protectedServer.WaitUntilReadyAsync(http, TimeSpan.FromSeconds(90));
        await baselineServer.WaitUntilReadyAsync(http, TimeSpan.FromSeconds(90));

        var time = TimeProvider.System;
        using var protectedTarget = new HttpTarget(new HttpTargetOptions { BaseAddress = protectedServer.BaseAddress, AdminKey = AdminKey }, time, "e2e");
        using var baselineTarget = new HttpTarget(new HttpTargetOptions { BaseAddress = baselineServer.BaseAddress, AdminKey = AdminKey }, time, "e2e");
        var options = new EvaluationOptions { Scale = AttackScale.Small, Seed = 7, AttackerPlan = "attacker", HonestPlan = "standard" };
        var runner = new EvaluationRunner(FashionMnist.Load(), protectedTarget, baselineTarget, options, time);

        var report = await runner.RunAsync(null, CancellationToken.None);
        foreach (var row in report.Attacks)
        {
            output.WriteLine($"{row.Target,-9} {row.Attack,-14} detected={row.Detected} first-refusal={row.QueriesToFirstRefusal} goal={row.GoalReached} {row.Summary}");
        }

        foreach (var honest in report.Honest)
        {
            output.WriteLine($"{honest.Target,-9} honest {honest.Clients}x{honest.QueriesPerClient}: flagged {honest.ClientsFlagged}, degraded queries {honest.DegradedQueries}, refusals {honest.Refusals}");
        }

        Assert.True(report.Complete, string.Join("; ", report.UnreachableTargets.Concat(report.Attacks.Select(a => a.Error)).Where(e => e is not null)));
        var baseline = report.Attacks.Where(a => a.Target == "baseline").ToList();
        var protectedRows = report.Attacks.Where(a => a.Target == "protected").ToList();
        Assert.All(baseline, a => Assert.True(a.GoalReached, $"{a.Attack} failed against the unprotected baseline: {a.Summary}"));
        Assert.All(protectedRows, a => Assert.Equal("valid", a.Validity));

        foreach (var attack in new[] { "simba", "square", "hsj", "jbda", "knockoff" })
        {
            var row = protectedRows.Single(a => a.Attack == attack);
            Assert.True(row.Detected, $"{attack} was not detected: {row.Summary}");
        }

        foreach (var evasion in new[] { "simba", "square", "hsj" })
        {
            var row = protectedRows.Single(a => a.Attack == evasion);
            Assert.False(row.GoalReached, $"{evasion} found an adversarial example before it was stopped: {row.Summary}");
        }

        // Transfer examples are sent once each through fresh clients: what catches them is the input
        // filter (feature squeezing at its calibrated 4.5% false-positive rate), read from the evidence.
        foreach (var transfer in new[] { "transfer-fgsm", "transfer-pgd" })
        {
            var row = protectedRows.Single(a => a.Attack == transfer);
            Assert.True(row.Details["filtered_share"] >= 0.3, $"{transfer}: the input filter flagged only {row.Details["filtered_share"]:P0}: {row.Summary}");
        }

        var protectedHonest = Assert.Single(report.Honest, h => h.Target == "protected");
        Assert.Equal(0, protectedHonest.ClientsFlagged);
        Assert.Equal(0, protectedHonest.DegradedQueries);
    }
}
