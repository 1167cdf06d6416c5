using System.ComponentModel;
using ShieldCluster.RedTeam.Evaluation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli;

/// <summary>Options of <c>shield redteam</c>.</summary>
internal sealed class RedTeamSettings : CommandSettings
{
    [CommandOption("--url <URL>")]
    [Description("The protected target, e.g. http://127.0.0.1:8080.")]
    public string? Url { get; init; }

    [CommandOption("--admin-key <KEY>")]
    [Description("Admin key (security role) of the target; default: $SHIELD_ADMIN_KEY.")]
    public string? AdminKey { get; init; }

    [CommandOption("--baseline-url <URL>")]
    [Description("The same deployment started with Shield__Protection__Enabled=false; every attack must succeed there for the evaluation to be valid.")]
    public string? BaselineUrl { get; init; }

    [CommandOption("--baseline-admin-key <KEY>")]
    [Description("Admin key of the baseline; default: the target's.")]
    public string? BaselineAdminKey { get; init; }

    [CommandOption("--scale <SCALE>")]
    [Description("small (a few hundred queries per attack, for CI) or full (the evaluation budgets).")]
    [DefaultValue("small")]
    public string Scale { get; init; } = "small";

    [CommandOption("--seed <N>")]
    [Description("Seed of every random choice.")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    [CommandOption("--attacks <LIST>")]
    [Description("Comma-separated: simba,square,hsj,knockoff,jbda,transfer,honest (default: all).")]
    public string? Attacks { get; init; }

    [CommandOption("--plan <PLAN>")]
    [Description("Plan of the attack clients.")]
    [DefaultValue("standard")]
    public string Plan { get; init; } = "standard";

    [CommandOption("--honest-plan <PLAN>")]
    [Description("Plan of the honest and measuring clients; default: --plan.")]
    public string? HonestPlan { get; init; }

    [CommandOption("--model <NAME>")]
    [Description("The model to attack.")]
    [DefaultValue("fashion-mnist")]
    public string Model { get; init; } = "fashion-mnist";

    [CommandOption("--data <DIR>")]
    [Description("Directory with the Fashion-MNIST IDX files.")]
    [DefaultValue("/usr/share/datasets/fashion-mnist")]
    public string Data { get; init; } = "/usr/share/datasets/fashion-mnist";

    [CommandOption("--max-retry-after <SECONDS>")]
    [Description("Longest Retry-After honoured on a 429 before the query counts as rate limited.")]
    [DefaultValue(30)]
    public int MaxRetryAfter { get; init; } = 30;

    [CommandOption("--json")]
    [Description("Print the report as JSON on stdout (progress stays on stderr).")]
    public bool Json { get; init; }

    public string ResolvedAdminKey => AdminKey ?? Environment.GetEnvironmentVariable("SHIELD_ADMIN_KEY") ?? "";

    public AttackScale ResolvedScale => Scale.Equals("full", StringComparison.OrdinalIgnoreCase) ? AttackScale.Full : AttackScale.Small;

    public IReadOnlyList<string> ResolvedAttacks => string.IsNullOrWhiteSpace(Attacks)
        ? AttackCatalog.Names
        : Attacks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(a => a.ToLowerInvariant()).ToList();

    public override ValidationResult Validate()
    {
        if (!IsHttpUrl(Url))
        {
            return ValidationResult.Error("--url must be an absolute http(s) URL");
        }

        if (BaselineUrl is not null && !IsHttpUrl(BaselineUrl))
        {
            return ValidationResult.Error("--baseline-url must be an absolute http(s) URL");
        }

        if (string.IsNullOrWhiteSpace(ResolvedAdminKey))
        {
            return ValidationResult.Error("an admin key is required: --admin-key or SHIELD_ADMIN_KEY");
        }

        if (!Scale.Equals("small", StringComparison.OrdinalIgnoreCase) && !Scale.Equals("full", StringComparison.OrdinalIgnoreCase))
        {
            return ValidationResult.Error("--scale must be small or full");
        }

        var unknown = ResolvedAttacks.Where(a => !AttackCatalog.Names.Contains(a)).ToList();
        if (unknown.Count > 0 || ResolvedAttacks.Count == 0)
        {
            return ValidationResult.Error($"--attacks: unknown {string.Join(", ", unknown)}; choose from {string.Join(",", AttackCatalog.Names)}");
        }

        if (MaxRetryAfter < 0)
        {
            return ValidationResult.Error("--max-retry-after must not be negative");
        }

        return ValidationResult.Success();
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
