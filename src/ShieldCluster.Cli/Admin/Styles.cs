using System.Globalization;
using Spectre.Console;

namespace ShieldCluster.Cli.Admin;

/// <summary>The colours of risk and enforcement (dropped under NO_COLOR or when not a terminal).</summary>
internal static class Styles
{
    /// <summary>A risk score in [0,1], coloured by the default enforcement ladder (0.4 degrade, 0.7 throttle, 0.9 block).</summary>
    public static string Risk(double? risk) => risk is not { } r ? "-"
        : $"[{(r >= 0.9 ? "red" : r >= 0.7 ? "darkorange" : r >= 0.4 ? "yellow" : "green")}]{r.ToString("0.00", CultureInfo.InvariantCulture)}[/]";

    /// <summary>An enforcement state: ok, degraded, throttled, blocked.</summary>
    public static string Enforcement(string? state) => state switch
    {
        null => "-",
        "ok" => "[green]ok[/]",
        "degraded" => "[yellow]degraded[/]",
        "throttled" => "[darkorange]throttled[/]",
        "blocked" => "[bold red]blocked[/]",
        _ => Markup.Escape(state),
    };
}
