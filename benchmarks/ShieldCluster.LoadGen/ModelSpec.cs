using System.Globalization;
using System.Text.Json;

namespace ShieldCluster.LoadGen;

/// <summary>
/// What the generator needs from a model's <c>config.json</c> (Triton's layout, as the server reads
/// it): the one input's name, dims (without the batch dimension), wire datatype and declared range,
/// and the first output's name and element count per item.
/// </summary>
internal sealed record ModelSpec
{
    public required string Name { get; init; }

    public required string InputName { get; init; }

    /// <summary>The input's dims without the batch dimension, e.g. [3, 224, 224].</summary>
    public required int[] Dims { get; init; }

    /// <summary>The protocol datatype of the input on the wire: <c>FP32</c> or <c>FP16</c>.</summary>
    public required string Datatype { get; init; }

    public float Low { get; init; }

    public float High { get; init; } = 1;

    public required string OutputName { get; init; }

    /// <summary>Values of the first output per item (outputs are FP32 on the wire whatever the graph).</summary>
    public required int OutputElements { get; init; }

    public int MaxBatchSize { get; init; }

    /// <summary>
    /// Whether the config declares feature squeezing with a calibrated threshold
    /// (<c>protection.squeezing</c>: squeezers and thresholds): the protected server squeezes only such
    /// models, so without one its figures leave out the squeezed copies' model rows.
    /// </summary>
    public bool SqueezingCalibrated { get; init; }

    public bool Fp16 => Datatype == "FP16";

    /// <summary>Bytes per input value on the wire.</summary>
    public int ElementBytes => Fp16 ? 2 : 4;

    /// <summary>Input values per item.</summary>
    public int Elements => Dims.Aggregate(1, (a, d) => checked(a * d));

    /// <summary>The protocol shape of a batch-1 request: [1, ...dims].</summary>
    public long[] RequestShape => [1, .. Dims.Select(d => (long)d)];

    public string ShapeText => "[" + string.Join(',', Dims) + "]";

    /// <summary>Reads <paramref name="modelDirectory"/>/config.json.</summary>
    public static ModelSpec Load(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, "config.json");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"{path} does not exist (--model names a directory of --models)");
        }

        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        var input = root.GetProperty("input")[0];
        var output = root.GetProperty("output")[0];
        var dims = input.GetProperty("dims").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        if (dims.Length == 0 || dims.Any(d => d <= 0))
        {
            throw new InvalidOperationException($"{path}: input dims must be positive");
        }

        var dataType = input.TryGetProperty("data_type", out var t) ? t.GetString() : "TYPE_FP32";
        var datatype = dataType switch
        {
            "TYPE_FP32" => "FP32",
            "TYPE_FP16" => "FP16",
            _ => throw new InvalidOperationException($"{path}: input data_type {dataType} is not supported by the generator (TYPE_FP32 or TYPE_FP16)"),
        };

        float low = 0, high = 1;
        if (input.TryGetProperty("range", out var range) && range.ValueKind == JsonValueKind.Array && range.GetArrayLength() == 2)
        {
            low = range[0].GetSingle();
            high = range[1].GetSingle();
            if (!(low <= high) || !float.IsFinite(low) || !float.IsFinite(high))
            {
                throw new InvalidOperationException($"{path}: input range [{low.ToString(CultureInfo.InvariantCulture)}, {high.ToString(CultureInfo.InvariantCulture)}] is not [min, max]");
            }
        }

        return new ModelSpec
        {
            Name = root.TryGetProperty("name", out var n) ? n.GetString() ?? Path.GetFileName(modelDirectory) : Path.GetFileName(modelDirectory),
            InputName = input.GetProperty("name").GetString()!,
            Dims = dims,
            Datatype = datatype,
            Low = low,
            High = high,
            OutputName = output.GetProperty("name").GetString()!,
            OutputElements = output.GetProperty("dims").EnumerateArray().Aggregate(1, (a, d) => checked(a * d.GetInt32())),
            MaxBatchSize = root.TryGetProperty("max_batch_size", out var m) ? m.GetInt32() : 0,
            SqueezingCalibrated = root.TryGetProperty("protection", out var protection) && protection.ValueKind == JsonValueKind.Object
                && protection.TryGetProperty("squeezing", out var squeezing) && squeezing.ValueKind == JsonValueKind.Object
                && squeezing.TryGetProperty("squeezers", out var squeezers) && squeezers.ValueKind == JsonValueKind.Array && squeezers.GetArrayLength() > 0
                && squeezing.TryGetProperty("thresholds", out var thresholds) && thresholds.ValueKind == JsonValueKind.Object && thresholds.EnumerateObject().Any(),
        };
    }
}
