using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli.Admin.Clients;

/// <summary>Options of <c>shield clients block</c>.</summary>
internal sealed class ClientsBlockSettings : ClientSettings
{
    [CommandOption("--reason <REASON>")]
    [Description("Why (required): it goes into the audit trail.")]
    public string? Reason { get; init; }

    [CommandOption("--minutes <N>")]
    [Description("Block for this many minutes; default: until unblocked.")]
    public int? Minutes { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Reason) ? ValidationResult.Error("--reason is required: say why, it goes into the audit trail")
        : Minutes is < 1 ? ValidationResult.Error("--minutes must be at least 1 (leave it out to block until unblocked)")
        : base.Validate();
}
