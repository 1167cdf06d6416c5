using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ShieldCluster.Cli;

/// <summary>Options of <c>shield calibrate-squeezing</c>.</summary>
internal sealed class CalibrateSqueezingSettings : CommandSettings
{
    [CommandOption("--models <DIR>")]
    [Description("The model repository.")]
    [DefaultValue("models")]
    public string Models { get; init; } = "models";

    [CommandOption("--model <NAME>")]
    [Description("The model.")]
    [DefaultValue("fashion-mnist")]
    public string Model { get; init; } = "fashion-mnist";

    [CommandOption("--version <N>")]
    [Description("The version (default: the latest).")]
    public string? Version { get; init; }

    [CommandOption("--rate <RATE>")]
    [Description("False-positive rate on the calibration images.")]
    [DefaultValue(0.035)]
    public double Rate { get; init; } = 0.035;

    [CommandOption("--train <N>")]
    [Description("Training images to calibrate on (the first N).")]
    [DefaultValue(5000)]
    public int Train { get; init; } = 5000;

    [CommandOption("--data <DIR>")]
    [Description("Fashion-MNIST IDX directory (Debian's dataset-fashion-mnist).")]
    [DefaultValue(ShieldCluster.RedTeam.Data.FashionMnist.DefaultDirectory)]
    public string Data { get; init; } = ShieldCluster.RedTeam.Data.FashionMnist.DefaultDirectory;

    public override ValidationResult Validate() =>
        Rate is <= 0 or >= 1 ? ValidationResult.Error("--rate must lie strictly between 0 and 1")
        : Train < 100 ? ValidationResult.Error("--train must be at least 100")
        : ValidationResult.Success();
}
