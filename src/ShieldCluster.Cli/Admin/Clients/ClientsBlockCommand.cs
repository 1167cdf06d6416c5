using System.Text.Json;

namespace ShieldCluster.Cli.Admin.Clients;

/// <summary><c>shield clients block</c>: blocks a client, for some minutes or until unblocked (POST /admin/clients/{id}/block).</summary>
internal sealed class ClientsBlockCommand(CliConsole console) : AdminCommand<ClientsBlockSettings>(console)
{
    protected override async Task<int> RunAsync(AdminHttpClient http, ClientsBlockSettings settings, CancellationToken cancellationToken)
    {
        var answer = await http.PostAsync(settings.ClientPath + "/block", new BlockBody(settings.Reason!, settings.Minutes), cancellationToken);
        using var document = answer.Parse();
        if (settings.Json)
        {
            WriteJson(answer.Body);
            return ExitCodes.Ok;
        }

        var until = document.RootElement.Member("enforcement").Member("until");
        WriteMarkupLine($"Client [bold]{JsonView.Escaped(settings.Id)}[/] is {Styles.Enforcement("blocked")} " +
            (until.ValueKind == JsonValueKind.String ? $"until {JsonView.Escaped(until)}." : "until unblocked."));
        return ExitCodes.Ok;
    }

    private sealed record BlockBody(string Reason, int? Minutes);
}
