using System.ComponentModel;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli.Admin.Clients;

/// <summary>Options of <c>shield clients create</c>.</summary>
internal sealed class ClientsCreateSettings : ClientSettings
{
    [CommandOption("--plan <PLAN>")]
    [Description("The client's plan; default: the server's default plan (standard).")]
    public string? Plan { get; init; }

    [CommandOption("--model <MODEL>")]
    [Description("A model the client may use (repeat for several); default: every model.")]
    public string[]? Models { get; init; }
}
