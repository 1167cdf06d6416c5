using System.Globalization;
using ShieldCluster.RedTeam.Evaluation;
using Spectre.Console;

namespace ShieldCluster.Cli;

/// <summary>Renders an <see cref="EvaluationReport"/> as console tables.</summary>
internal static class ReportTable
{
    public static void Write(IAnsiConsole console, EvaluationReport report)
    {
        var attacks = new Table().Border(TableBorder.Rounded)
            .Title($"Red-team evaluation (seed {report.Seed}, scale {report.Scale.ToString().ToLowerInvariant()}, {report.Seconds:0}s)")
            .AddColumns("Attack", "Target", "Validity", "Detected", "First refusal", "Queries", "429 waits", "Goal", "Outcome");
        foreach (var r in report.Attacks)
        {
            attacks.AddRow(
                Markup.Escape(r.Attack),
                r.Target,
                Markup.Escape(r.Validity ?? "-"),
                r.Detected ? $"[red]yes[/] {Markup.Escape(r.DetectedBy ?? "")}" : "[green]no[/]",
                r.QueriesToFirstRefusal?.ToString(CultureInfo.InvariantCulture) ?? "-",
                r.Queries.ToString(CultureInfo.InvariantCulture),
                r.RateLimitWaits.ToString(CultureInfo.InvariantCulture),
                r.Error is not null ? "[yellow]error[/]" : r.GoalReached ? "[red]reached[/]" : "[green]missed[/]",
                Markup.Escape(r.Error ?? r.Summary));
        }

        console.Write(attacks);
        if (report.Honest.Count > 0)
        {
            var honest = new Table().Border(TableBorder.Rounded).Title("Honest clients")
                .AddColumns("Target", "Clients", "Queries", "Clients flagged", "Detector fired", "Degraded answers", "Refusals", "429 waits", "Notes");
            foreach (var h in report.Honest)
            {
                honest.AddRow(
                    h.Target,
                    h.Clients.ToString(CultureInfo.InvariantCulture),
                    h.Queries.ToString(CultureInfo.InvariantCulture),
                    $"{h.ClientsFlagged} ({h.ShareClientsFlagged:P1})",
                    h.ClientsWithDetectorFiring.ToString(CultureInfo.InvariantCulture),
                    $"{h.DegradedQueries} ({h.ShareQueriesDegraded:P2})",
                    h.Refusals.ToString(CultureInfo.InvariantCulture),
                    h.RateLimitWaits.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(h.Error ?? string.Join("; ", h.Flagged.Take(3))));
            }

            console.Write(honest);
        }

        foreach (var r in report.Attacks.Where(r => r.Target == "protected" && r.Validity is not null && r.Validity != "valid"))
        {
            console.MarkupLine($"[yellow]{Markup.Escape(r.Attack)}: {Markup.Escape(r.Validity!)}[/]");
        }
    }
}
