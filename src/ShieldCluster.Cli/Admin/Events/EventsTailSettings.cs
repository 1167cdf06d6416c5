using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli.Admin.Events;

/// <summary>Options of <c>shield events tail</c>.</summary>
internal sealed class EventsTailSettings : AdminSettings
{
    [CommandOption("--client <ID>")]
    [Description("Only this client's events.")]
    public string? Client { get; init; }

    [CommandOption("--since <ISO-8601>")]
    [Description("Only events at or after this time, e.g. 2025-06-01T12:00:00Z (no offset: UTC).")]
    public string? Since { get; init; }

    [CommandOption("--limit <N>")]
    [Description("At most this many events per request (the server allows 1 to 1000; its default is 100).")]
    public int? Limit { get; init; }

    [CommandOption("-f|--follow")]
    [Description("Keep polling every second and print new events as they come, until Ctrl+C (exit 0). With --json: one event object per line (JSON Lines).")]
    public bool Follow { get; init; }

    /// <summary>--since as a time; null when absent.</summary>
    public DateTimeOffset? SinceTime =>
        Since is null ? null : DateTimeOffset.Parse(Since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override ValidationResult Validate() =>
        Since is not null && !DateTimeOffset.TryParse(Since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)
            ? ValidationResult.Error("--since must be an ISO-8601 time, e.g. 2025-06-01T12:00:00Z")
        : Limit is < 1 ? ValidationResult.Error("--limit must be at least 1")
        : Client is not null && string.IsNullOrWhiteSpace(Client) ? ValidationResult.Error("--client must not be empty")
        : base.Validate();
}
