namespace ShieldCluster.Cli.Tests;

/// <summary>What one <c>shield</c> invocation did: its exit code, stdout and stderr.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error)
{
    public string All => Out + Error;

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Error}";
}
