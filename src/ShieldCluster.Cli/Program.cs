using ShieldCluster.Cli;
using Spectre.Console;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("shield");
    config.UseStrictParsing();
    config.ConfigureConsole(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }));
    config.SetExceptionHandler((exception, _) =>
    {
        Console.Error.WriteLine($"shield: {exception.Message}");
        return exception is CommandAppException ? ExitCodes.BadCommandLine : ExitCodes.Incomplete;
    });
    config.AddCommand<RedTeamCommand>("redteam")
        .WithDescription("Attack a ShieldCluster deployment through its HTTP API and report detection, cost and success per attack.")
        .WithExample("redteam", "--url", "http://127.0.0.1:8080", "--baseline-url", "http://127.0.0.1:8090", "--scale", "small", "--seed", "7");
    config.AddCommand<CalibrateSqueezingCommand>("calibrate-squeezing")
        .WithDescription("Calibrate a model version's feature-squeezing threshold on training images and record it in its config.json.")
        .WithExample("calibrate-squeezing", "--models", "models", "--model", "fashion-mnist", "--rate", "0.035");
});

return await app.RunAsync(args);
