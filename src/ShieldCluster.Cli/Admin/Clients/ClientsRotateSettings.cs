using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli.Admin.Clients;

/// <summary>Options of <c>shield clients rotate</c>.</summary>
internal sealed class ClientsRotateSettings : ClientSettings
{
    [CommandOption("--grace-minutes <N>")]
    [Description("How long the old key keeps working; default: the server's (0: it stops at once).")]
    public int? GraceMinutes { get; init; }

    public override ValidationResult Validate() =>
        GraceMinutes is < 0 ? ValidationResult.Error("--grace-minutes must not be negative") : base.Validate();
}
