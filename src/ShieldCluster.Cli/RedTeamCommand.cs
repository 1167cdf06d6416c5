using System.Text.Json;
using System.Text.Json.Serialization;
using ShieldCluster.RedTeam.Data;
using ShieldCluster.RedTeam.Evaluation;
using ShieldCluster.RedTeam.Target;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli;

/// <summary><c>shield redteam</c>: runs the evaluation and prints the table or the JSON report.</summary>
internal sealed class RedTeamCommand : AsyncCommand<RedTeamSettings>
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public override async Task<int> ExecuteAsync(CommandContext context, RedTeamSettings settings, CancellationToken cancellationToken)
    {
        var progressConsole = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        FashionMnist data;
        try
        {
            data = FashionMnist.Load(settings.Data);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"shield: cannot read Fashion-MNIST from {settings.Data}: {e.Message}");
            return ExitCodes.BadCommandLine;
        }

        var time = TimeProvider.System;
        var runId = Guid.NewGuid().ToString("N")[..8];
        using var protectedTarget = new HttpTarget(TargetOptions(settings.Url!, settings.ResolvedAdminKey, settings), time, runId + "p");
        using var baselineTarget = settings.BaselineUrl is null
            ? null
            : new HttpTarget(TargetOptions(settings.BaselineUrl, settings.BaselineAdminKey ?? settings.ResolvedAdminKey, settings), time, runId + "b");
        var options = new EvaluationOptions
        {
            Attacks = settings.ResolvedAttacks,
            Scale = settings.ResolvedScale,
            Seed = settings.Seed,
            AttackerPlan = settings.Plan,
            HonestPlan = settings.HonestPlan ?? settings.Plan,
        };
        var runner = new EvaluationRunner(data, protectedTarget, baselineTarget, options, time);

        EvaluationReport report = null!;
        await progressConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async live =>
            {
                var tasks = runner.Steps().ToDictionary(s => s, s => live.AddTask(Markup.Escape(s), autoStart: false, maxValue: 1));
                var progress = new Progress<EvaluationProgress>(update =>
                {
                    if (!tasks.TryGetValue(update.Key, out var task))
                    {
                        return;
                    }

                    task.StartTask();
                    task.Value = update.Fraction;
                    if (update.Finished)
                    {
                        task.Description = Markup.Escape($"{update.Key}: {Shorten(update.Summary)}");
                        task.StopTask();
                    }
                });
                report = await runner.RunAsync(progress, cancellationToken);
            });

        if (settings.Json)
        {
            await Console.Out.WriteLineAsync(JsonSerializer.Serialize(report, JsonOptions));
        }
        else
        {
            if (Console.IsOutputRedirected)
            {
                // Files and pipes get the full table instead of an 80-column wrap.
                AnsiConsole.Profile.Width = 200;
            }

            ReportTable.Write(AnsiConsole.Console, report);
        }

        foreach (var unreachable in report.UnreachableTargets)
        {
            await Console.Error.WriteLineAsync($"shield: unreachable target {unreachable}");
        }

        return report.Complete ? ExitCodes.Ok : ExitCodes.Incomplete;
    }

    private static HttpTargetOptions TargetOptions(string url, string adminKey, RedTeamSettings settings) => new()
    {
        BaseAddress = new Uri(url),
        AdminKey = adminKey,
        Model = settings.Model,
        MaxRetryAfter = TimeSpan.FromSeconds(settings.MaxRetryAfter),
    };

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 70 ? text : text[..70] + "...";
}
