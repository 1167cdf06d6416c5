using ShieldCluster.RedTeam.Attacks;
using ShieldCluster.RedTeam.Data;
using ShieldCluster.RedTeam.Target;

namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>
/// Runs the chosen attacks, and the honest clients, against the baseline target (protection off)
/// and then the protected target with the same seeds, and judges detection from each attack
/// client's admin report.
/// </summary>
public sealed class EvaluationRunner(FashionMnist data, ITarget protectedTarget, ITarget? baselineTarget, EvaluationOptions options, TimeProvider time)
{
    /// <summary>The steps the run will report progress for, in order.</summary>
    public IReadOnlyList<string> Steps()
    {
        var steps = new List<string>();
        foreach (var label in Labels())
        {
            steps.AddRange(AttackCatalog.Create(options.Attacks, options.Scale).Select(a => $"{a.Name}@{label}"));
            if (options.Attacks.Contains(AttackCatalog.Honest, StringComparer.OrdinalIgnoreCase))
            {
                steps.Add($"{AttackCatalog.Honest}@{label}");
            }
        }

        return steps;
    }

    /// <summary>Runs everything and builds the report.</summary>
    public async Task<EvaluationReport> RunAsync(IProgress<EvaluationProgress>? progress, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var startedTicks = time.GetTimestamp();
        var results = new List<AttackResult>();
        var honest = new List<HonestClientsResult>();
        var unreachable = new List<string>();
        TargetState? baselineState = null;
        var targets = new List<(ITarget Target, string Label)>();
        if (baselineTarget is not null)
        {
            targets.Add((baselineTarget, "baseline"));
        }

        targets.Add((protectedTarget, "protected"));
        foreach (var (target, label) in targets)
        {
            var state = new TargetState(label);
            if (label == "baseline")
            {
                baselineState = state;
            }

            var attacks = AttackCatalog.Create(options.Attacks, options.Scale, () => baselineState?.Substitute);
            try
            {
                await target.CheckReachableAsync(cancellationToken);
            }
            catch (TargetUnreachableException e)
            {
                unreachable.Add($"{label}: {e.Message}");
                foreach (var attack in attacks)
                {
                    progress?.Report(new EvaluationProgress($"{attack.Name}@{label}", 1, true, "target unreachable"));
                }

                if (options.Attacks.Contains(AttackCatalog.Honest, StringComparer.OrdinalIgnoreCase))
                {
                    progress?.Report(new EvaluationProgress($"{AttackCatalog.Honest}@{label}", 1, true, "target unreachable"));
                }

                continue;
            }

            foreach (var attack in attacks)
            {
                var key = $"{attack.Name}@{label}";
                var context = NewContext(target, state, key, progress);
                AttackResult result;
                try
                {
                    result = await attack.RunAsync(context, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    result = context.Result(attack.Name, false, "", "", new Dictionary<string, double>()) with { Error = e.Message };
                }

                result = await JudgeAsync(result, context, cancellationToken);
                results.Add(result);
                progress?.Report(new EvaluationProgress(key, 1, true, result.Error ?? result.Summary));
            }

            if (options.Attacks.Contains(AttackCatalog.Honest, StringComparer.OrdinalIgnoreCase))
            {
                var key = $"{AttackCatalog.Honest}@{label}";
                var context = NewContext(target, state, key, progress);
                HonestClientsResult result;
                try
                {
                    result = await new HonestClients(HonestClientsOptions.For(options.Scale)).RunAsync(context, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    result = new HonestClientsResult { Target = label, Error = e.Message };
                }

                honest.Add(result);
                progress?.Report(new EvaluationProgress(key, 1, true, result.Error ?? $"{result.ClientsFlagged}/{result.Clients} clients flagged"));
            }
        }

        return new EvaluationReport
        {
            StartedAt = startedAt,
            Seconds = time.GetElapsedTime(startedTicks).TotalSeconds,
            Seed = options.Seed,
            Scale = options.Scale,
            ProtectedUrl = protectedTarget.Name,
            BaselineUrl = baselineTarget?.Name,
            AttackerPlan = options.AttackerPlan,
            HonestPlan = options.HonestPlan,
            Attacks = Validate(results, baselineTarget is not null),
            Honest = honest,
            UnreachableTargets = unreachable,
        };
    }

    /// <summary>Marks protected rows valid only where the same attack reached its goal on the baseline.</summary>
    internal static List<AttackResult> Validate(List<AttackResult> results, bool hasBaseline)
    {
        var baseline = results.Where(r => r.Target == "baseline").ToDictionary(r => r.Attack);
        return results.Select(r =>
        {
            if (r.Target != "protected")
            {
                return r;
            }

            var validity = !hasBaseline ? "no baseline"
                : baseline.TryGetValue(r.Attack, out var b) && b.GoalReached && b.Error is null ? "valid"
                : "invalid (no baseline success)";
            return r with { Validity = validity };
        }).ToList();
    }

    private AttackContext NewContext(ITarget target, TargetState state, string key, IProgress<EvaluationProgress>? progress) =>
        new(target, state, data, options.Seed, options.Scale, options.AttackerPlan, options.HonestPlan,
            progress is null ? null : new InlineProgress(f => progress.Report(new EvaluationProgress(key, Math.Clamp(f, 0, 1), false))));

    private static async Task<AttackResult> JudgeAsync(AttackResult result, AttackContext context, CancellationToken cancellationToken)
    {
        var worst = "ok";
        double? risk = null;
        var fired = new SortedSet<string>(StringComparer.Ordinal);
        string? reportError = null;
        foreach (var client in context.Clients.Where(c => c.IsAttacker))
        {
            ClientReport? report;
            try
            {
                report = await context.Target.GetReportAsync(client.ClientId, cancellationToken);
            }
            catch (TargetUnreachableException e)
            {
                reportError = e.Message;
                continue;
            }

            if (report is null)
            {
                continue;
            }

            if (ClientReport.Severity(report.WorstEnforcement) > ClientReport.Severity(worst))
            {
                worst = report.WorstEnforcement;
            }

            risk = Math.Max(risk ?? 0, report.Risk);
            foreach (var d in report.Detectors.Where(d => d.Score >= 1))
            {
                fired.Add(d.MonitorOnly ? $"{d.Name} (monitor)" : d.Name);
            }
        }

        var by = new List<string>();
        if (result.QueriesToFirstRefusal is { } first)
        {
            by.Add($"{(result.Refusals > 0 ? "refused" : "degraded")} at query {first}");
        }

        if (worst != "ok")
        {
            by.Add($"enforcement {worst}");
        }

        if (fired.Count > 0)
        {
            by.Add($"detectors {string.Join(", ", fired)}");
        }

        return result with
        {
            Detected = by.Count > 0,
            DetectedBy = by.Count > 0 ? string.Join("; ", by) : null,
            Enforcement = worst,
            Risk = risk,
            DetectorsFired = [.. fired],
            Error = result.Error ?? (reportError is null ? null : $"admin report: {reportError}"),
        };
    }

    private sealed class InlineProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    private IEnumerable<string> Labels()
    {
        if (baselineTarget is not null)
        {
            yield return "baseline";
        }

        yield return "protected";
    }
}
