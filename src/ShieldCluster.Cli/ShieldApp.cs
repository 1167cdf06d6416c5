using ShieldCluster.Cli.Admin.Clients;
using ShieldCluster.Cli.Admin.Events;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli;

/// <summary>Builds the <c>shield</c> command app over a <see cref="CliConsole"/> (the process's, or a test's).</summary>
internal static class ShieldApp
{
    public static CommandApp Create(CliConsole console)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("shield");
            config.UseStrictParsing();
            config.ConfigureConsole(console.ErrorRendered);
            config.Settings.Registrar.RegisterInstance(console);
            config.SetHelpProvider(new ShieldHelpProvider(config.Settings));
            config.SetExceptionHandler((exception, _) =>
            {
                console.Error.WriteLine($"shield: {exception.Message}");
                return exception is CommandAppException ? ExitCodes.BadCommandLine : ExitCodes.Incomplete;
            });

            config.AddCommand<RedTeamCommand>("redteam")
                .WithDescription("Attack a ShieldCluster deployment through its HTTP API and report detection, cost and success per attack.")
                .WithExample("redteam", "--url", "http://127.0.0.1:8080", "--baseline-url", "http://127.0.0.1:8090", "--scale", "small", "--seed", "7");
            config.AddCommand<CalibrateSqueezingCommand>("calibrate-squeezing")
                .WithDescription("Calibrate a model version's feature-squeezing threshold on training images and record it in its config.json.")
                .WithExample("calibrate-squeezing", "--models", "models", "--model", "fashion-mnist", "--rate", "0.035");

            config.AddBranch("clients", clients =>
            {
                clients.SetDescription("Inspect and manage a deployment's clients through its admin API (needs an admin key; exit codes below).");
                clients.AddCommand<ClientsTopCommand>("top")
                    .WithDescription("The riskiest clients first: client, risk, enforcement, last update.")
                    .WithExample("clients", "top", "--top", "20");
                clients.AddCommand<ClientsShowCommand>("show")
                    .WithDescription("A client's risk report: plan, limits, usage, risk, enforcement, each detector's score and evidence, recent security events.")
                    .WithExample("clients", "show", "acme")
                    .WithExample("clients", "show", "acme", "--json");
                clients.AddCommand<ClientsCreateCommand>("create")
                    .WithDescription("Create a client and print its API key once: the key alone on stdout, the explanation on stderr (needs the security role).")
                    .WithExample("clients", "create", "acme", "--plan", "standard", "--model", "fashion-mnist");
                clients.AddCommand<ClientsBlockCommand>("block")
                    .WithDescription("Block a client for some minutes or until unblocked; durable before it answers (needs the security role).")
                    .WithExample("clients", "block", "acme", "--reason", "'extraction pattern confirmed'", "--minutes", "60");
                clients.AddCommand<ClientsUnblockCommand>("unblock")
                    .WithDescription("Unblock a client: enforcement back to ok, risk to 0, evidence kept (needs the security role).")
                    .WithExample("clients", "unblock", "acme", "--reason", "'false positive, ticket 123'");
                clients.AddCommand<ClientsRotateCommand>("rotate")
                    .WithDescription("Give a client a new API key, printed once like create's; the old key works for the grace period (needs the security role).")
                    .WithExample("clients", "rotate", "acme", "--grace-minutes", "60");
                clients.AddCommand<ClientsDeleteCommand>("delete")
                    .WithDescription("Delete a client; asks for confirmation on a terminal, refuses without --yes otherwise (needs the security role).")
                    .WithExample("clients", "delete", "acme", "--yes");
            });
            config.AddBranch("events", events =>
            {
                events.SetDescription("The append-only audit trail of security decisions (needs an admin key; exit codes below).");
                events.AddCommand<EventsTailCommand>("tail")
                    .WithDescription("Security events, oldest first; --follow keeps printing new ones every second until Ctrl+C.")
                    .WithExample("events", "tail", "--client", "acme", "--since", "2025-06-01T00:00:00Z")
                    .WithExample("events", "tail", "--follow", "--json");
            });
        });
        return app;
    }
}
