namespace ShieldCluster.Cli;

/// <summary>The tool's exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>The evaluation ran completely.</summary>
    public const int Ok = 0;

    /// <summary>It ran, but a target was unreachable or an attack errored.</summary>
    public const int Incomplete = 1;

    /// <summary>The command line was wrong.</summary>
    public const int BadCommandLine = 2;
}
