using System.Globalization;
using System.Text.Json;
using ShieldCluster.Protection.InputFilters;
using ShieldCluster.Protection.Validation;

namespace ShieldCluster.Inference.Squeezing;

/// <summary>
/// A model's feature-squeezing settings from <c>config.json</c>:
/// <c>"protection": {"squeezing": {"squeezers": ["bit-depth-4", "median-2x2"], "false_positive_rate": 0.05, "thresholds": {"1": 0.31}}}</c>.
/// A version without a calibrated threshold is served without squeezing.
/// </summary>
public sealed class SqueezingSettings
{
    private SqueezingSettings(IReadOnlyList<ISqueezer> squeezers, IReadOnlyDictionary<string, float> thresholds, double falsePositiveRate)
    {
        Squeezers = squeezers;
        Thresholds = thresholds;
        FalsePositiveRate = falsePositiveRate;
    }

    /// <summary>The squeezers, in the order their copies are batched.</summary>
    public IReadOnlyList<ISqueezer> Squeezers { get; }

    /// <summary>Calibrated thresholds by version.</summary>
    public IReadOnlyDictionary<string, float> Thresholds { get; }

    /// <summary>The false-positive rate the thresholds were calibrated for.</summary>
    public double FalsePositiveRate { get; }

    /// <summary>Parses the <c>protection</c> block; null when it has no <c>squeezing</c>. Throws <see cref="FormatException"/> naming the problem.</summary>
    public static SqueezingSettings? Parse(JsonElement? protection, TensorSpec input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (protection is not { ValueKind: JsonValueKind.Object } block || !block.TryGetProperty("squeezing", out var squeezing))
        {
            return null;
        }

        var squeezers = new List<ISqueezer>();
        if (squeezing.TryGetProperty("squeezers", out var names) && names.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in names.EnumerateArray())
            {
                squeezers.Add(CreateSqueezer(name.GetString() ?? "", input));
            }
        }

        if (squeezers.Count == 0)
        {
            throw new FormatException("protection.squeezing.squeezers must name at least one squeezer");
        }

        var thresholds = new Dictionary<string, float>(StringComparer.Ordinal);
        if (squeezing.TryGetProperty("thresholds", out var byVersion) && byVersion.ValueKind == JsonValueKind.Object)
        {
            foreach (var version in byVersion.EnumerateObject())
            {
                thresholds[version.Name] = version.Value.GetSingle();
            }
        }

        var rate = squeezing.TryGetProperty("false_positive_rate", out var fpr) ? fpr.GetDouble() : 0.05;
        return new SqueezingSettings(squeezers, thresholds, rate);
    }

    /// <summary>Creates a squeezer from its name: <c>bit-depth-N</c> or <c>median-KxK</c>.</summary>
    public static ISqueezer CreateSqueezer(string name, TensorSpec input)
    {
        ArgumentNullException.ThrowIfNull(input);
        const string bitDepth = "bit-depth-";
        const string median = "median-";
        if (name.StartsWith(bitDepth, StringComparison.Ordinal) && int.TryParse(name.AsSpan(bitDepth.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var bits))
        {
            return new BitDepthSqueezer(bits, input.Min ?? 0f, input.Max ?? 1f);
        }

        if (name.StartsWith(median, StringComparison.Ordinal))
        {
            var size = name[median.Length..].Split('x');
            if (size.Length == 2 && size[0] == size[1] && int.TryParse(size[0], NumberStyles.None, CultureInfo.InvariantCulture, out var window))
            {
                return MedianSqueezer.ForItemDims(input.ItemDims, window);
            }
        }

        throw new FormatException($"unknown squeezer '{name}' (use bit-depth-N or median-KxK)");
    }
}
