using System.Text.Json.Nodes;
using ShieldCluster.Testing;

namespace ShieldCluster.LoadGen.Tests;

/// <summary>
/// Small model repositories written at test time (no large model in the repository), with
/// <see cref="OnnxModels"/>: dynamic batching up to 32, as the generator's GPU mode expects.
/// </summary>
internal static class TinyModels
{
    /// <summary>
    /// A float classifier of <paramref name="dims"/> (C,H,W) images: GlobalAveragePool, Flatten,
    /// MatMul to 10 logits, Softmax; output "output" [N,10].
    /// </summary>
    public static string Classifier(string repository, string name, int[] dims, float low = 0, float high = 1)
    {
        var channels = dims[0];
        var weights = new float[channels * 10];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (i % 7 - 3) * 0.25f;
        }

        var graph = OnnxModels.Graph(
            [
                OnnxModels.Node("GlobalAveragePool", ["input"], ["pooled"]),
                OnnxModels.Node("Flatten", ["pooled"], ["flat"], ("axis", 1)),
                OnnxModels.Node("MatMul", ["flat", "weights"], ["logits"]),
                OnnxModels.Node("Softmax", ["logits"], ["output"], ("axis", 1)),
            ],
            [OnnxModels.Initializer("weights", [channels, 10], OnnxModels.Float, System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()).ToArray())],
            OnnxModels.ValueInfo("input", OnnxModels.Float, [null, .. dims.Select(d => (long?)d)]),
            OnnxModels.ValueInfo("output", OnnxModels.Float, [null, 10]));
        return Write(repository, name, graph, dims, "TYPE_FP32", 10, low, high);
    }

    /// <summary>An FP16 graph: Flatten of a float16 input, output "output" float16 [N, C*H*W] (as an fp16 export keeps its outputs).</summary>
    public static string Fp16Flatten(string repository, string name, int[] dims)
    {
        var elements = dims.Aggregate(1, (a, d) => a * d);
        var graph = OnnxModels.Graph(
            [OnnxModels.Node("Flatten", ["input"], ["output"], ("axis", 1))],
            [],
            OnnxModels.ValueInfo("input", OnnxModels.Float16, [null, .. dims.Select(d => (long?)d)]),
            OnnxModels.ValueInfo("output", OnnxModels.Float16, [null, elements]));
        return Write(repository, name, graph, dims, "TYPE_FP16", elements, 0, 1);
    }

    private static string Write(string repository, string name, byte[] graph, int[] dims, string dataType, int outputs, float low, float high) =>
        OnnxModels.WriteEntry(repository, name, OnnxModels.Model(graph), new JsonObject
        {
            ["max_batch_size"] = 32,
            ["input"] = new JsonArray(new JsonObject
            {
                ["name"] = "input",
                ["data_type"] = dataType,
                ["dims"] = new JsonArray([.. dims.Select(d => JsonValue.Create(d))]),
                ["range"] = new JsonArray(low, high),
            }),
            ["output"] = new JsonArray(new JsonObject { ["name"] = "output", ["data_type"] = "TYPE_FP32", ["dims"] = new JsonArray(outputs) }),
            ["dynamic_batching"] = new JsonObject { ["max_queue_delay_microseconds"] = 0, ["preferred_batch_size"] = new JsonArray(8) },
        });
}
