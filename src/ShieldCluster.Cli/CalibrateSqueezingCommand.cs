using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using ShieldCluster.Inference;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Inference.Squeezing;
using ShieldCluster.RedTeam.Data;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli;

/// <summary>
/// <c>shield calibrate-squeezing</c>: scores the first N training images with the model's declared
/// squeezers, sets the threshold at the given false-positive rate, measures the rate on the 10,000
/// held-out test images, and records all three in the model's <c>config.json</c>.
/// </summary>
internal sealed class CalibrateSqueezingCommand : Command<CalibrateSqueezingSettings>
{
    public override int Execute(CommandContext context, CalibrateSqueezingSettings settings, CancellationToken cancellationToken)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new InferenceOptions { ModelRepository = Path.GetFullPath(settings.Models) });
        using var repository = new ModelRepository(options, new ExecutionProviderSelector(options, NullLogger<ExecutionProviderSelector>.Instance), NullLogger<ModelRepository>.Instance);
        var model = repository.Find(settings.Model, settings.Version);
        if (model is null)
        {
            Console.Error.WriteLine($"shield: model '{settings.Model}' version '{settings.Version ?? "latest"}' is not in {repository.Root} (or failed its integrity check)");
            return ExitCodes.BadCommandLine;
        }

        if (model.Squeezers.Count == 0)
        {
            Console.Error.WriteLine($"shield: {settings.Model}'s config.json declares no protection.squeezing.squeezers");
            return ExitCodes.BadCommandLine;
        }

        var data = FashionMnist.Load(settings.Data);
        var train = SqueezingCalibration.Scores(model, data.Train.Images, Math.Min(settings.Train, data.Train.Count));
        var threshold = SqueezingCalibration.Threshold(train, settings.Rate);
        var heldOut = SqueezingCalibration.FlaggedShare(SqueezingCalibration.Scores(model, data.Test.Images, data.Test.Count), threshold);
        var configPath = Path.Combine(repository.Root, settings.Model, "config.json");
        SqueezingCalibration.Record(configPath, model.Version, threshold, settings.Rate,
            string.Create(CultureInfo.InvariantCulture, $"training images 0-{train.Length - 1}"), heldOut);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{settings.Model} version {model.Version}: squeezers {string.Join(", ", model.Squeezers.Select(s => s.Name))}; threshold {threshold} ({SqueezingCalibration.Percent(settings.Rate)} of {train.Length} training images above it); {SqueezingCalibration.Percent(heldOut)} of {data.Test.Count} held-out test images flagged; recorded in {configPath}"));
        return ExitCodes.Ok;
    }
}
