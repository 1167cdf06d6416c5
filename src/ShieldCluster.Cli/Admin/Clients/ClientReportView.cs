using System.Text.Json;
using Spectre.Console;
using ShieldCluster.Cli.Admin.Events;

namespace ShieldCluster.Cli.Admin.Clients;

/// <summary>Renders <c>GET /admin/clients/{id}</c>: summary, limits and usage, detectors, recent events, timeline.</summary>
internal static class ClientReportView
{
    public static void Write(IAnsiConsole console, JsonElement report)
    {
        var enforcement = report.Member("enforcement");
        var state = enforcement.ValueKind == JsonValueKind.Object ? enforcement.String("state") : report.String("enforcement");
        var until = enforcement.Member("until");

        var summary = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        summary.AddRow("[bold]Client[/]", $"[bold]{JsonView.Escaped(report.String("clientId"))}[/]");
        summary.AddRow("Plan", JsonView.Escaped(report.String("plan")));
        summary.AddRow("Models", report.Member("models").ValueKind == JsonValueKind.Array ? JsonView.Escaped(report.Member("models")) : "all");
        summary.AddRow("Risk", Styles.Risk(report.Number("risk")));
        summary.AddRow("Enforcement", Styles.Enforcement(state) + (state == "blocked"
            ? until.ValueKind == JsonValueKind.String ? $" until {JsonView.Escaped(until)}" : " until unblocked"
            : until.ValueKind == JsonValueKind.String ? $" (until {JsonView.Escaped(until)})" : ""));
        foreach (var extra in new[] { "source", "historyItems", "lastSeen" })
        {
            if (report.Member(extra).ValueKind is not JsonValueKind.Undefined)
            {
                summary.AddRow(Capitalise(JsonView.Humanize(extra)), JsonView.Escaped(report.Member(extra)));
            }
        }

        console.Write(summary);
        console.WriteLine();

        var numbers = new Table().Border(TableBorder.Rounded).AddColumns("Limits", "", "Usage", "");
        var limits = Pairs(report.Member("limits"));
        var usage = Pairs(report.Member("usage"));
        for (var i = 0; i < Math.Max(limits.Count, usage.Count); i++)
        {
            numbers.AddRow(
                i < limits.Count ? limits[i].Name : "", i < limits.Count ? limits[i].Value : "",
                i < usage.Count ? usage[i].Name : "", i < usage.Count ? usage[i].Value : "");
        }

        if (limits.Count + usage.Count > 0)
        {
            console.Write(numbers);
        }

        var detectors = report.Items("detectors").ToList();
        if (detectors.Count > 0)
        {
            var table = new Table().Border(TableBorder.Rounded).Title("Detectors").AddColumns("Detector", "Score", "Monitor only", "Evidence");
            foreach (var d in detectors)
            {
                table.AddRow(
                    JsonView.Escaped(d.String("name") ?? d.String("detector")),
                    Styles.Risk(d.Number("score")),
                    d.Member("monitorOnly").ValueKind == JsonValueKind.True ? "[grey]yes[/]" : "no",
                    JsonView.Escaped(d.Member("evidence")));
            }

            console.Write(table);
        }
        else
        {
            console.MarkupLine("Detectors: [grey]no signal yet[/]");
        }

        var events = report.Items("events").ToList();
        if (events.Count > 0)
        {
            console.Write(EventView.Table(events, "Recent security events", showClient: false));
        }
        else
        {
            console.MarkupLine("Recent security events: [grey]none[/]");
        }

        if (report.Member("timeline") is { ValueKind: JsonValueKind.Object } timeline)
        {
            console.Write(TimelineSummary(timeline));
        }
    }

    /// <summary>
    /// A small summary of the <c>timeline</c> object, whatever it holds: per member, how many entries
    /// an array has and the span of their <c>at</c>/<c>start</c> times, or the value itself.
    /// </summary>
    public static Table TimelineSummary(JsonElement timeline)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Timeline").AddColumns("Series", "Summary");
        foreach (var member in timeline.EnumerateObject())
        {
            table.AddRow(Markup.Escape(JsonView.Humanize(member.Name)), Summarise(member.Value));
        }

        return table;
    }

    private static string Summarise(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            var text = JsonView.Text(value);
            return Markup.Escape(AdminHttpClient.Printable(text.Length > 80 ? text[..77] + "..." : text));
        }

        var items = value.EnumerateArray().ToList();
        var parts = new List<string> { $"{items.Count} {(items.Count == 1 ? "entry" : "entries")}" };
        if (items.Count > 0 && items.All(i => i.ValueKind == JsonValueKind.Number))
        {
            var numbers = items.Select(i => i.GetDouble()).ToList();
            parts.Add($"max {JsonView.Number(numbers.Max())}, last {JsonView.Number(numbers[^1])}");
            return Markup.Escape(string.Join(", ", parts));
        }

        var objects = items.Where(i => i.ValueKind == JsonValueKind.Object).ToList();
        var times = objects.Select(i => i.String("at") ?? i.String("start") ?? i.String("time"))
            .Where(t => t is not null).Select(t => JsonView.TimeOrString(t!)).ToList();
        if (times.Count > 0)
        {
            parts.Add(times.Count == 1 ? times[0] : $"{times[0]} to {times[^1]}");
        }

        // Per member: counts (whole numbers) add up, fractions (scores) peak, text shows its latest value.
        var names = objects.SelectMany(o => o.EnumerateObject().Select(p => p.Name)).Distinct().Where(n => n is not ("at" or "start" or "time"));
        foreach (var name in names)
        {
            var values = objects.Select(o => o.Member(name)).Where(v => v.ValueKind != JsonValueKind.Undefined).ToList();
            if (values.All(v => v.ValueKind == JsonValueKind.Number))
            {
                var numbers = values.Select(v => v.GetDouble()).ToList();
                parts.Add(numbers.All(n => n == Math.Floor(n))
                    ? $"{JsonView.Humanize(name)} {JsonView.Number(numbers.Sum())} in all"
                    : $"peak {JsonView.Humanize(name)} {JsonView.Number(numbers.Max())}");
            }
            else if (values.LastOrDefault() is { ValueKind: JsonValueKind.String } last)
            {
                parts.Add($"last {JsonView.Humanize(name)} {JsonView.Text(last)}");
            }
        }

        return Markup.Escape(AdminHttpClient.Printable(string.Join("; ", parts)));
    }

    private static List<(string Name, string Value)> Pairs(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object
            ? element.EnumerateObject().Select(p => (Markup.Escape(JsonView.Humanize(p.Name)), JsonView.Escaped(p.Value))).ToList()
            : [];

    private static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
