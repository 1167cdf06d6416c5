namespace ShieldCluster.Cli.Admin.Clients;

/// <summary>
/// <c>shield clients delete</c>: removes a client (DELETE /admin/clients/{id}, 204). Without --yes it
/// asks on a terminal and refuses (exit 2) when nobody can answer.
/// </summary>
internal sealed class ClientsDeleteCommand(CliConsole console) : AdminCommand<ClientsDeleteSettings>(console)
{
    protected override async Task<int> RunAsync(AdminHttpClient http, ClientsDeleteSettings settings, CancellationToken cancellationToken)
    {
        if (!settings.Yes)
        {
            if (!Io.InputIsInteractive)
            {
                return Fail(ExitCodes.BadCommandLine, $"refusing to delete client '{settings.Id}' without confirmation: stdin is not a terminal; pass --yes");
            }

            Io.Error.Write($"Delete client '{AdminHttpClient.Printable(settings.Id)}'? Its API keys stop working and its state is removed. [y/N] ");
            Io.Error.Flush();
            var reply = Io.ReadLine()?.Trim();
            if (!string.Equals(reply, "y", StringComparison.OrdinalIgnoreCase) && !string.Equals(reply, "yes", StringComparison.OrdinalIgnoreCase))
            {
                return Fail(ExitCodes.Incomplete, "not deleted");
            }
        }

        var answer = await http.DeleteAsync(settings.ClientPath, cancellationToken);
        if (settings.Json)
        {
            // 204 has no body; scripts still get one JSON value to parse.
            WriteJson(string.IsNullOrWhiteSpace(answer.Body)
                ? System.Text.Json.JsonSerializer.Serialize(new DeleteResult(settings.Id, true), DeleteResult.Options)
                : answer.Body);
            return ExitCodes.Ok;
        }

        WriteMarkupLine($"Deleted client [bold]{JsonView.Escaped(settings.Id)}[/].");
        return ExitCodes.Ok;
    }

    private sealed record DeleteResult(string ClientId, bool Deleted)
    {
        public static readonly System.Text.Json.JsonSerializerOptions Options = new(System.Text.Json.JsonSerializerDefaults.Web);
    }
}
