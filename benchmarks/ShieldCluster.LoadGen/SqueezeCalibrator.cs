using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using ShieldCluster.Inference;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Inference.Squeezing;

namespace ShieldCluster.LoadGen;

/// <summary>
/// <c>--calibrate-squeezing</c>: gives a model without a squeezing calibration one before the servers
/// start, so the protected server squeezes a sample of requests as it would for a calibrated model
/// (the GPU benchmark's ResNet-50 repositories have none). The named squeezers are written into the
/// model's <c>config.json</c>; the model is loaded through the server's own model repository on
/// <c>--device</c>; its squeezing scores on the generator's own inputs (images the load does not
/// send first: the pool from its far end, synthetic inputs from another seed) set the threshold at
/// the rate asked, and the rate on as many other such inputs is recorded as held out. The server's
/// code computes every score (<see cref="SqueezingCalibration"/>), not a copy of it here.
/// </summary>
internal static class SqueezeCalibrator
{
    /// <summary>What the calibration found.</summary>
    internal sealed record Result(string Squeezers, string Version, float Threshold, double Rate, double HeldOutRate, int Images);

    /// <summary>Calibrates <paramref name="modelDirectory"/>'s latest version; rewrites its config.json.</summary>
    public static Result Run(string modelDirectory, ModelSpec spec, IInputImages images, IReadOnlyList<string> squeezers, int count, double rate, Device device)
    {
        var configPath = Path.Combine(modelDirectory, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))?.AsObject()
            ?? throw new InvalidOperationException($"{configPath} is not a JSON object");
        var protection = config["protection"] as JsonObject ?? new JsonObject();
        config["protection"] = protection;
        // A fresh block: the squeezers asked for, no thresholds of other squeezers left behind.
        protection["squeezing"] = new JsonObject { ["squeezers"] = new JsonArray([.. squeezers.Select(s => (JsonNode)JsonValue.Create(s))]) };
        File.WriteAllText(configPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

        // A repository of this model alone (a link to its directory): the server's repository loads
        // every model it holds, and on CUDA warms each at every padded batch size.
        var alone = Directory.CreateTempSubdirectory("shield-calibrate-").FullName;
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(alone, Path.GetFileName(modelDirectory)), Path.GetFullPath(modelDirectory));
            return Calibrate(alone, configPath, modelDirectory, spec, images, squeezers, count, rate, device);
        }
        finally
        {
            Directory.Delete(alone, recursive: true);
        }
    }

    private static Result Calibrate(string models, string configPath, string modelDirectory, ModelSpec spec, IInputImages images, IReadOnlyList<string> squeezers, int count, double rate, Device device)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new InferenceOptions
        {
            ModelRepository = models,
            Device = device == Device.Cuda ? InferenceDevice.Cuda : InferenceDevice.Cpu,
        });
        using var repository = new ModelRepository(options, new ExecutionProviderSelector(options, NullLogger<ExecutionProviderSelector>.Instance), NullLogger<ModelRepository>.Instance);
        var model = repository.Find(Path.GetFileName(modelDirectory), null)
            ?? throw new InvalidOperationException($"the server's model repository did not load {modelDirectory} with the squeezers {string.Join(", ", squeezers)}");
        if (model.Squeezers.Count != squeezers.Count)
        {
            throw new InvalidOperationException($"{configPath}: the repository loaded {model.Squeezers.Count} squeezers of the {squeezers.Count} asked for");
        }

        var calibration = Inputs(spec, images, count, skip: 0);
        var heldOut = Inputs(spec, images, count, skip: count);
        var scores = SqueezingCalibration.Scores(model, calibration, count);
        var threshold = SqueezingCalibration.Threshold(scores, rate);
        var heldOutRate = SqueezingCalibration.FlaggedShare(SqueezingCalibration.Scores(model, heldOut, count), threshold);
        SqueezingCalibration.Record(configPath, model.Version, threshold, rate,
            string.Create(CultureInfo.InvariantCulture, $"{count} inputs of the load generator ({images.Source}), taken from the end of its set"), heldOutRate);
        return new Result(string.Join(", ", squeezers), model.Version, threshold, rate, heldOutRate, count);
    }

    /// <summary>
    /// <paramref name="count"/> inputs as FP32 values, the set's last ones first (after skipping
    /// <paramref name="skip"/> of those): the load's clients walk the set from its start.
    /// </summary>
    private static float[] Inputs(ModelSpec spec, IInputImages images, int count, int skip)
    {
        if (2 * count > images.Count)
        {
            throw new InvalidOperationException($"--calibrate-count {count}: the input set holds {images.Count:N0} images, and calibration takes twice the count (calibration and held out)");
        }

        var values = new float[count * spec.Elements];
        var scratch = new byte[spec.Elements];
        var table = images.Table;
        for (var i = 0; i < count; i++)
        {
            var levels = images.Levels(images.Count - 1 - skip - i, scratch);
            var row = values.AsSpan(i * spec.Elements, spec.Elements);
            for (var k = 0; k < row.Length; k++)
            {
                row[k] = table.Floats[levels[k]];
            }
        }

        return values;
    }
}
