using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli.Admin.Clients;

/// <summary>Options of <c>shield clients unblock</c>.</summary>
internal sealed class ClientsUnblockSettings : ClientSettings
{
    [CommandOption("--reason <REASON>")]
    [Description("Why (required): it goes into the audit trail.")]
    public string? Reason { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Reason) ? ValidationResult.Error("--reason is required: say why, it goes into the audit trail") : base.Validate();
}
