using System.Text.Json;

namespace ShieldCluster.Cli.Admin.Clients;

/// <summary>
/// <c>shield clients rotate</c>: a new API key for the client (POST /admin/clients/{id}/rotate-key),
/// printed once like <c>create</c>'s; the old one works for the grace period.
/// </summary>
internal sealed class ClientsRotateCommand(CliConsole console) : AdminCommand<ClientsRotateSettings>(console)
{
    protected override async Task<int> RunAsync(AdminHttpClient http, ClientsRotateSettings settings, CancellationToken cancellationToken)
    {
        var answer = await http.PostAsync(settings.ClientPath + "/rotate-key", new RotateBody(settings.GraceMinutes), cancellationToken);
        using var document = answer.Parse();
        if (settings.Json)
        {
            WriteJson(answer.Body);
            return ExitCodes.Ok;
        }

        var key = document.RootElement.String("apiKey")
            ?? throw new AdminApiException(ExitCodes.ServerUnavailable, "the server rotated the key but answered no apiKey");
        var validUntil = document.RootElement.Member("oldKeyValidUntil");
        KeyBanner.Write(Io, $"New API key for client '{settings.Id}', shown only this once:", key,
            settings.GraceMinutes > 0 && validUntil.ValueKind == JsonValueKind.String
                ? $"The old key keeps working until {JsonView.Text(validUntil)}; hand the new one over before then."
                : "The old key no longer works (no grace period).");
        return ExitCodes.Ok;
    }

    private sealed record RotateBody(int? GraceMinutes);
}
