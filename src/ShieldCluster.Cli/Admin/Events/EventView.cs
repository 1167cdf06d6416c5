using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace ShieldCluster.Cli.Admin.Events;

/// <summary>Security events (<c>{"id","at","clientId","kind","from","to","risk","actor","reason"}</c>) as a table or as lines.</summary>
internal static class EventView
{
    public static Table Table(IReadOnlyList<JsonElement> events, string title, bool showClient)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(title);
        table.AddColumn("At");
        if (showClient)
        {
            table.AddColumn("Client");
        }

        table.AddColumns("Kind", "Change", "Risk", "Actor", "Reason");
        foreach (var e in events)
        {
            var cells = new List<string> { JsonView.Escaped(e.Member("at")) };
            if (showClient)
            {
                cells.Add(JsonView.Escaped(e.String("clientId")));
            }

            cells.AddRange([JsonView.Escaped(e.String("kind")), Change(e), Styles.Risk(e.Number("risk")), JsonView.Escaped(e.String("actor")), JsonView.Escaped(e.String("reason"))]);
            table.AddRow(cells.ToArray());
        }

        return table;
    }

    /// <summary>One event on one line of markup, for <c>events tail --follow</c>.</summary>
    public static string Line(JsonElement e) => string.Create(CultureInfo.InvariantCulture,
        $"{JsonView.Escaped(e.Member("at"))}  [bold]{JsonView.Escaped(e.String("clientId"))}[/]  {JsonView.Escaped(e.String("kind"))}  {Change(e)}  risk {Styles.Risk(e.Number("risk"))}  by {JsonView.Escaped(e.String("actor"))}: {JsonView.Escaped(e.String("reason"))}");

    private static string Change(JsonElement e) =>
        e.String("from") is null && e.String("to") is null ? "-" : $"{Styles.Enforcement(e.String("from"))} -> {Styles.Enforcement(e.String("to"))}";
}
