using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ShieldCluster.Inference.Runtime;
using ShieldCluster.Protection.InputFilters;

namespace ShieldCluster.Inference.Squeezing;

/// <summary>
/// Calibrates a model version's feature-squeezing threshold on benign inputs for a target
/// false-positive rate, and records it in the model's <c>config.json</c> (model files and their
/// digests are untouched).
/// </summary>
public static class SqueezingCalibration
{
    /// <summary>The squeezing scores of <paramref name="count"/> benign items, run in batches of the model's maximum.</summary>
    public static float[] Scores(ModelVersion model, ReadOnlyMemory<float> items, int count)
    {
        ArgumentNullException.ThrowIfNull(model);
        var itemLength = (int)model.Input.ItemLength;
        var batch = Math.Max(1, model.MaxBatchSize);
        var scores = new float[count];
        for (var start = 0; start < count; start += batch)
        {
            var n = Math.Min(batch, count - start);
            model.RunWithSqueezing(items.Slice(start * itemLength, n * itemLength), n).Scores.CopyTo(scores, start);
        }

        return scores;
    }

    /// <summary>The threshold above which at most <paramref name="falsePositiveRate"/> of <paramref name="benignScores"/> lie.</summary>
    public static float Threshold(IReadOnlyList<float> benignScores, double falsePositiveRate) =>
        FeatureSqueezingDetector.CalibrateThreshold(benignScores, falsePositiveRate);

    /// <summary>
    /// Writes <paramref name="threshold"/> for <paramref name="version"/> into the config's
    /// <c>protection.squeezing</c> block, with the rate and how it was measured.
    /// </summary>
    public static void Record(string configPath, string version, float threshold, double falsePositiveRate, string calibratedOn, double heldOutFalsePositiveRate)
    {
        var config = JsonNode.Parse(File.ReadAllText(configPath))?.AsObject()
            ?? throw new InvalidDataException($"{configPath} is not a JSON object");
        var protection = config["protection"] as JsonObject ?? new JsonObject();
        config["protection"] = protection;
        var squeezing = protection["squeezing"] as JsonObject
            ?? throw new InvalidDataException($"{configPath} has no protection.squeezing block naming its squeezers");
        squeezing["false_positive_rate"] = falsePositiveRate;
        var thresholds = squeezing["thresholds"] as JsonObject ?? new JsonObject();
        squeezing["thresholds"] = thresholds;
        thresholds[version] = threshold;
        var calibration = squeezing["calibration"] as JsonObject ?? new JsonObject();
        squeezing["calibration"] = calibration;
        calibration[version] = new JsonObject
        {
            ["calibrated_on"] = calibratedOn,
            ["held_out_false_positive_rate"] = Math.Round(heldOutFalsePositiveRate, 4),
        };
        File.WriteAllText(configPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The share of <paramref name="scores"/> above <paramref name="threshold"/>.</summary>
    public static double FlaggedShare(IReadOnlyList<float> scores, float threshold)
    {
        ArgumentNullException.ThrowIfNull(scores);
        return scores.Count == 0 ? 0 : scores.Count(s => FeatureSqueezingDetector.IsAdversarial(s, threshold)) / (double)scores.Count;
    }

    /// <summary>Formats a rate for provenance text.</summary>
    public static string Percent(double rate) => (rate * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";
}
