using System.ComponentModel;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli.Admin.Clients;

/// <summary>Options of <c>shield clients delete</c>.</summary>
internal sealed class ClientsDeleteSettings : ClientSettings
{
    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation (required when stdin is not a terminal).")]
    public bool Yes { get; init; }
}
