using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli.Admin;

/// <summary>Options every admin command takes: where the deployment is, the admin key, and JSON output.</summary>
internal class AdminSettings : CommandSettings
{
    /// <summary>The deployment when neither --url nor SHIELD_URL says.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    [CommandOption("--url <URL>")]
    [Description("The deployment; default: $SHIELD_URL, else " + DefaultUrl + ".")]
    public string? Url { get; init; }

    [CommandOption("--admin-key <KEY>")]
    [Description("Admin key; default: $SHIELD_ADMIN_KEY (prefer it: a command line is visible to other users). Never printed.")]
    public string? AdminKey { get; init; }

    [CommandOption("--json")]
    [Description("Print the server's JSON on stdout and nothing else (messages stay on stderr).")]
    public bool Json { get; init; }

    public override ValidationResult Validate() =>
        Url is not null && !IsHttpUrl(Url) ? ValidationResult.Error("--url must be an absolute http(s) URL")
        : AdminKey is not null && !AdminHttpClient.IsValidKey(AdminKey) ? ValidationResult.Error("--admin-key must be visible ASCII without spaces")
        : ValidationResult.Success();

    internal static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
