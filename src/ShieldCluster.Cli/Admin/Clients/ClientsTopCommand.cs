using System.Globalization;
using Spectre.Console;

namespace ShieldCluster.Cli.Admin.Clients;

/// <summary><c>shield clients top</c>: the riskiest clients first (GET /admin/clients?sort=risk&amp;top=N).</summary>
internal sealed class ClientsTopCommand(CliConsole console) : AdminCommand<ClientsTopSettings>(console)
{
    protected override async Task<int> RunAsync(AdminHttpClient http, ClientsTopSettings settings, CancellationToken cancellationToken)
    {
        var answer = await http.GetAsync(string.Create(CultureInfo.InvariantCulture, $"admin/clients?sort=risk&top={settings.Top}"), cancellationToken);
        using var document = answer.Parse();
        if (settings.Json)
        {
            WriteJson(answer.Body);
            return ExitCodes.Ok;
        }

        var clients = document.RootElement.Items("clients").ToList();
        if (clients.Count == 0)
        {
            WriteMarkupLine("No client at risk: the index lists clients whose risk is above 0 or whose enforcement is not ok.");
            return ExitCodes.Ok;
        }

        var table = new Table().Border(TableBorder.Rounded)
            .Title($"The {clients.Count} riskiest clients")
            .AddColumns("Client", "Risk", "Enforcement", "Updated");
        foreach (var client in clients)
        {
            table.AddRow(
                JsonView.Escaped(client.String("clientId")),
                Styles.Risk(client.Number("risk")),
                Styles.Enforcement(client.String("enforcement")),
                JsonView.Escaped(client.Member("updatedAt")));
        }

        Write(table);
        return ExitCodes.Ok;
    }
}
