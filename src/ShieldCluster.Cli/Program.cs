using ShieldCluster.Cli;

// Ctrl+C cancels the running command (events tail --follow ends cleanly) instead of killing the process.
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !interrupted.IsCancellationRequested;
    interrupted.Cancel();
};

return await ShieldApp.Create(CliConsole.System()).RunAsync(args, interrupted.Token);
