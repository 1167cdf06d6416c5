namespace ShieldCluster.Cli.Admin;

/// <summary>An admin request that failed, with the exit code it maps to and a message fit for standard error.</summary>
internal sealed class AdminApiException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>One of <see cref="ExitCodes"/>.</summary>
    public int ExitCode { get; } = exitCode;
}
