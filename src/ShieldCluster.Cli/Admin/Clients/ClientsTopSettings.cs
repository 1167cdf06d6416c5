using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli.Admin.Clients;

/// <summary>Options of <c>shield clients top</c>.</summary>
internal sealed class ClientsTopSettings : AdminSettings
{
    [CommandOption("--top <N>")]
    [Description("How many clients, riskiest first.")]
    [DefaultValue(10)]
    public int Top { get; init; } = 10;

    public override ValidationResult Validate() =>
        Top < 1 ? ValidationResult.Error("--top must be at least 1") : base.Validate();
}
