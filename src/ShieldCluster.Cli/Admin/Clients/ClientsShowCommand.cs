namespace ShieldCluster.Cli.Admin.Clients;

/// <summary><c>shield clients show</c>: a client's risk report (GET /admin/clients/{id}).</summary>
internal sealed class ClientsShowCommand(CliConsole console) : AdminCommand<ClientSettings>(console)
{
    protected override async Task<int> RunAsync(AdminHttpClient http, ClientSettings settings, CancellationToken cancellationToken)
    {
        var answer = await http.GetAsync(settings.ClientPath, cancellationToken);
        using var document = answer.Parse();
        if (settings.Json)
        {
            WriteJson(answer.Body);
        }
        else
        {
            ClientReportView.Write(Io.Rendered, document.RootElement);
        }

        return ExitCodes.Ok;
    }
}
