using Spectre.Console;

namespace ShieldCluster.Cli;

/// <summary>
/// Everything the commands read from and write to outside the network: standard output (raw text and
/// rendered tables), standard error, standard input and the environment. <see cref="System"/> is the
/// real process; tests build one over string writers and call the app in-process.
/// </summary>
internal sealed class CliConsole
{
    /// <summary>Raw standard output: JSON, keys, plain lines.</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Standard output for Spectre renderables (tables, markup): no ANSI codes when redirected, no colour under NO_COLOR.</summary>
    public required IAnsiConsole Rendered { get; init; }

    /// <summary>Standard error: messages, warnings, prompts.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Spectre's own console (help and parse errors), on standard error so stdout stays machine-readable.</summary>
    public required IAnsiConsole ErrorRendered { get; init; }

    /// <summary>Whether a person can answer a question on standard input.</summary>
    public required bool InputIsInteractive { get; init; }

    /// <summary>Reads one line of standard input (null at its end).</summary>
    public required Func<string?> ReadLine { get; init; }

    /// <summary>Reads an environment variable.</summary>
    public required Func<string, string?> Environment { get; init; }

    /// <summary>The process's own console.</summary>
    public static CliConsole System()
    {
        var noColor = !string.IsNullOrEmpty(global::System.Environment.GetEnvironmentVariable("NO_COLOR"));
        return new CliConsole
        {
            Out = Console.Out,
            Rendered = Create(Console.Out, Console.IsOutputRedirected, noColor),
            Error = Console.Error,
            ErrorRendered = Create(Console.Error, Console.IsErrorRedirected, noColor),
            InputIsInteractive = !Console.IsInputRedirected,
            ReadLine = Console.ReadLine,
            Environment = global::System.Environment.GetEnvironmentVariable,
        };
    }

    /// <summary>
    /// A Spectre console over <paramref name="writer"/>. Redirected output (files, pipes, tests) gets
    /// neither ANSI codes nor colour and a 200-column width instead of an 80-column wrap.
    /// </summary>
    public static IAnsiConsole Create(TextWriter writer, bool redirected, bool noColor)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected || noColor ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected)
        {
            console.Profile.Width = 200;
        }

        return console;
    }
}
