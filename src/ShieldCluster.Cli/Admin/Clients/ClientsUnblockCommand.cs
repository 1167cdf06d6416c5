namespace ShieldCluster.Cli.Admin.Clients;

/// <summary><c>shield clients unblock</c>: enforcement back to ok and risk to 0, evidence kept (POST /admin/clients/{id}/unblock).</summary>
internal sealed class ClientsUnblockCommand(CliConsole console) : AdminCommand<ClientsUnblockSettings>(console)
{
    protected override async Task<int> RunAsync(AdminHttpClient http, ClientsUnblockSettings settings, CancellationToken cancellationToken)
    {
        var answer = await http.PostAsync(settings.ClientPath + "/unblock", new UnblockBody(settings.Reason!), cancellationToken);
        using var document = answer.Parse();
        if (settings.Json)
        {
            WriteJson(answer.Body);
            return ExitCodes.Ok;
        }

        WriteMarkupLine($"Client [bold]{JsonView.Escaped(settings.Id)}[/] is {Styles.Enforcement(document.RootElement.Member("enforcement").String("state") ?? "ok")} again: risk reset to 0, evidence kept.");
        return ExitCodes.Ok;
    }

    private sealed record UnblockBody(string Reason);
}
