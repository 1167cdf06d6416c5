namespace ShieldCluster.Cli.Admin.Clients;

/// <summary>
/// <c>shield clients create</c>: registers a client (POST /admin/clients) and prints its API key, which
/// the server shows only this once: the key alone on stdout, the explanation on stderr.
/// </summary>
internal sealed class ClientsCreateCommand(CliConsole console) : AdminCommand<ClientsCreateSettings>(console)
{
    protected override async Task<int> RunAsync(AdminHttpClient http, ClientsCreateSettings settings, CancellationToken cancellationToken)
    {
        var body = new CreateBody(settings.Id, settings.Plan, settings.Models is { Length: > 0 } models ? models : null);
        var answer = await http.PostAsync("admin/clients", body, cancellationToken);
        using var document = answer.Parse();
        if (settings.Json)
        {
            WriteJson(answer.Body);
            return ExitCodes.Ok;
        }

        var key = document.RootElement.String("apiKey")
            ?? throw new AdminApiException(ExitCodes.ServerUnavailable, "the server created the client but answered no apiKey");
        var plan = settings.Plan is null ? "the default plan" : $"plan '{settings.Plan}'";
        var scope = body.Models is null ? "every model" : string.Join(", ", body.Models);
        KeyBanner.Write(Io, $"Created client '{settings.Id}' on {plan} ({scope}). Its API key, shown only this once:", key,
            "Store it now: the server keeps only its SHA-256 and cannot show it again (rotate it with 'shield clients rotate').");
        return ExitCodes.Ok;
    }

    private sealed record CreateBody(string ClientId, string? Plan, string[]? Models);
}
