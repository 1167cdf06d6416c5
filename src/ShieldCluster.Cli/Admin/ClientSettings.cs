using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli.Admin;

/// <summary>Admin options plus the client the command is about.</summary>
internal class ClientSettings : AdminSettings
{
    [CommandArgument(0, "<id>")]
    [Description("The client id.")]
    public string Id { get; init; } = "";

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Id) ? ValidationResult.Error("a client id is required") : base.Validate();

    /// <summary>The client's route, the id escaped.</summary>
    public string ClientPath => "admin/clients/" + Uri.EscapeDataString(Id);
}
