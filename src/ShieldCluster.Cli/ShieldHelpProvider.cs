using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Cli.Help;
using Spectre.Console.Rendering;

namespace ShieldCluster.Cli;

/// <summary>Spectre's help, plus the exit-code table under the admin commands (<c>clients</c>, <c>events</c>).</summary>
internal sealed class ShieldHelpProvider(ICommandAppSettings settings) : HelpProvider(settings)
{
    /// <summary>The branches whose help lists the exit codes.</summary>
    public static readonly IReadOnlySet<string> AdminBranches = new HashSet<string>(StringComparer.Ordinal) { "clients", "events" };

    public override IEnumerable<IRenderable> GetFooter(ICommandModel model, ICommandInfo? command)
    {
        foreach (var renderable in base.GetFooter(model, command))
        {
            yield return renderable;
        }

        if (!IsAdmin(command))
        {
            yield break;
        }

        var grid = new Grid().AddColumn(new GridColumn().PadLeft(4).PadRight(2)).AddColumn();
        foreach (var (code, meaning) in ExitCodes.Table)
        {
            grid.AddRow(code.ToString(CultureInfo.InvariantCulture), Markup.Escape(meaning));
        }

        yield return new Markup(Environment.NewLine + "[yellow]EXIT CODES:[/]" + Environment.NewLine);
        yield return grid;
        yield return new Markup(Environment.NewLine + "    Errors print the server's message on stderr. Environment: SHIELD_URL, SHIELD_ADMIN_KEY, NO_COLOR." + Environment.NewLine);
    }

    private static bool IsAdmin(ICommandInfo? command)
    {
        for (var c = command; c is not null; c = c.Parent)
        {
            if (AdminBranches.Contains(c.Name))
            {
                return true;
            }
        }

        return false;
    }
}
