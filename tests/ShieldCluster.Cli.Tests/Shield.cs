namespace ShieldCluster.Cli.Tests;

/// <summary>
/// Runs the <c>shield</c> command app in-process over captured writers, as a redirected, colourless
/// terminal would see it, with the given environment variables and standard input.
/// </summary>
internal sealed class Shield
{
    private readonly CapturedWriter _out = new();
    private readonly CapturedWriter _error = new();

    /// <summary>Standard output so far.</summary>
    public string Out => _out.ToString();

    /// <summary>Standard error so far.</summary>
    public string Error => _error.ToString();

    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, string[] args,
        bool interactive = false, string? input = null, CancellationToken cancellationToken = default) =>
        new Shield().StartAsync(environment, args, interactive, input, cancellationToken);

    /// <summary>Runs one command; <see cref="Out"/> and <see cref="Error"/> can be read while it runs.</summary>
    public async Task<CliResult> StartAsync(IReadOnlyDictionary<string, string> environment, string[] args,
        bool interactive = false, string? input = null, CancellationToken cancellationToken = default)
    {
        var stdin = new StringReader(input ?? "");
        var console = new CliConsole
        {
            Out = _out,
            Rendered = CliConsole.Create(_out, redirected: true, noColor: true),
            Error = _error,
            ErrorRendered = CliConsole.Create(_error, redirected: true, noColor: true),
            InputIsInteractive = interactive,
            ReadLine = stdin.ReadLine,
            Environment = name => environment.TryGetValue(name, out var value) ? value : null,
        };
        var exitCode = await ShieldApp.Create(console).RunAsync(args, cancellationToken);
        return new CliResult(exitCode, Out, Error);
    }
}
