using Spectre.Console;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli.Admin;

/// <summary>
/// The frame of every admin command: resolves the URL and the admin key (options, then environment),
/// runs the command against the API and turns a failure into its exit code and one line on stderr.
/// </summary>
internal abstract class AdminCommand<TSettings>(CliConsole console) : AsyncCommand<TSettings>
    where TSettings : AdminSettings
{
    /// <summary>How long one request may take.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    protected CliConsole Io { get; } = console;

    public sealed override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        var url = settings.Url ?? NonEmpty(Io.Environment("SHIELD_URL")) ?? AdminSettings.DefaultUrl;
        if (!AdminSettings.IsHttpUrl(url))
        {
            return Fail(ExitCodes.BadCommandLine, "SHIELD_URL must be an absolute http(s) URL");
        }

        var key = settings.AdminKey ?? NonEmpty(Io.Environment("SHIELD_ADMIN_KEY"));
        if (key is null)
        {
            return Fail(ExitCodes.BadCommandLine, "an admin key is required: set SHIELD_ADMIN_KEY or pass --admin-key");
        }

        if (!AdminHttpClient.IsValidKey(key))
        {
            return Fail(ExitCodes.BadCommandLine, "SHIELD_ADMIN_KEY must be visible ASCII without spaces");
        }

        using var http = new AdminHttpClient(new Uri(url), key, RequestTimeout);
        try
        {
            return await RunAsync(http, settings, cancellationToken);
        }
        catch (AdminApiException e)
        {
            return Fail(e.ExitCode, e.Message);
        }
    }

    /// <summary>The command itself; throws <see cref="AdminApiException"/> on failure.</summary>
    protected abstract Task<int> RunAsync(AdminHttpClient http, TSettings settings, CancellationToken cancellationToken);

    /// <summary>Writes <c>shield: message</c> on stderr and answers <paramref name="exitCode"/>.</summary>
    protected int Fail(int exitCode, string message)
    {
        Io.Error.WriteLine($"shield: {message}");
        return exitCode;
    }

    /// <summary>Writes the server's JSON as it came, on one line of stdout.</summary>
    protected void WriteJson(string json) => Io.Out.WriteLine(json.Trim());

    /// <summary>Writes markup on stdout.</summary>
    protected void WriteMarkupLine(string markup) => Io.Rendered.MarkupLine(markup);

    /// <summary>Renders on stdout.</summary>
    protected void Write(Spectre.Console.Rendering.IRenderable renderable) => Io.Rendered.Write(renderable);

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
