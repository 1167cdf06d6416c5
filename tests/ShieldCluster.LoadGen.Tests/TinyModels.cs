using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ShieldCluster.LoadGen.Tests;

/// <summary>
/// Small model repositories written at test time (no large model in the repository): a model
/// directory with config.json (sha256 included, as the server requires) and 1/model.onnx, the ONNX
/// graph written as protobuf by hand (no onnx package needed).
/// </summary>
internal static class TinyModels
{
    private const int Float = 1;
    private const int Float16 = 10;

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

        var graph = Graph(
            [
                Node("GlobalAveragePool", ["input"], ["pooled"]),
                Node("Flatten", ["pooled"], ["flat"], ("axis", 1)),
                Node("MatMul", ["flat", "weights"], ["logits"]),
                Node("Softmax", ["logits"], ["output"], ("axis", 1)),
            ],
            [Initializer("weights", [channels, 10], Float, MemoryMarshalBytes(weights))],
            ValueInfo("input", Float, [null, .. dims.Select(d => (long?)d)]),
            ValueInfo("output", Float, [null, 10]));
        return Write(repository, name, graph, dims, "TYPE_FP32", 10, low, high);
    }

    /// <summary>An FP16 graph: Flatten of a float16 input, output "output" float16 [N, C*H*W] (as an fp16 export keeps its outputs).</summary>
    public static string Fp16Flatten(string repository, string name, int[] dims)
    {
        var elements = dims.Aggregate(1, (a, d) => a * d);
        var graph = Graph(
            [Node("Flatten", ["input"], ["output"], ("axis", 1))],
            [],
            ValueInfo("input", Float16, [null, .. dims.Select(d => (long?)d)]),
            ValueInfo("output", Float16, [null, elements]));
        return Write(repository, name, graph, dims, "TYPE_FP16", elements, 0, 1);
    }

    private static string Write(string repository, string name, byte[] graph, int[] dims, string dataType, int outputs, float low, float high)
    {
        var directory = Path.Combine(repository, name);
        Directory.CreateDirectory(Path.Combine(directory, "1"));
        var model = Message(w =>
        {
            Int(w, 1, 8); // ir_version
            String(w, 2, "loadgen-tests"); // producer_name
            Bytes(w, 8, Message(o => Int(o, 2, 13))); // opset_import { version: 13 }
            Bytes(w, 7, graph);
        });
        var path = Path.Combine(directory, "1", "model.onnx");
        File.WriteAllBytes(path, model);
        var config = new Dictionary<string, object>
        {
            ["name"] = name,
            ["platform"] = "onnxruntime_onnx",
            ["max_batch_size"] = 32,
            ["input"] = new[] { new Dictionary<string, object> { ["name"] = "input", ["data_type"] = dataType, ["dims"] = dims, ["range"] = new[] { low, high } } },
            ["output"] = new[] { new Dictionary<string, object> { ["name"] = "output", ["data_type"] = "TYPE_FP32", ["dims"] = new[] { outputs } } },
            ["dynamic_batching"] = new Dictionary<string, object> { ["max_queue_delay_microseconds"] = 500, ["preferred_batch_size"] = new[] { 8 } },
            ["sha256"] = new Dictionary<string, object> { ["1"] = new Dictionary<string, string> { ["model.onnx"] = Convert.ToHexStringLower(SHA256.HashData(model)) } },
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config));
        return directory;
    }

    private static byte[] Graph(byte[][] nodes, byte[][] initializers, byte[] input, byte[] output) => Message(w =>
    {
        foreach (var node in nodes)
        {
            Bytes(w, 1, node);
        }

        String(w, 2, "tiny");
        foreach (var initializer in initializers)
        {
            Bytes(w, 5, initializer);
        }

        Bytes(w, 11, input);
        Bytes(w, 12, output);
    });

    private static byte[] Node(string op, string[] inputs, string[] outputs, params (string Name, long Value)[] attributes) => Message(w =>
    {
        foreach (var i in inputs)
        {
            String(w, 1, i);
        }

        foreach (var o in outputs)
        {
            String(w, 2, o);
        }

        String(w, 3, op + "-" + outputs[0]);
        String(w, 4, op);
        foreach (var (name, value) in attributes)
        {
            Bytes(w, 5, Message(a =>
            {
                String(a, 1, name);
                Int(a, 3, value); // i
                Int(a, 20, 2); // type: INT
            }));
        }
    });

    private static byte[] Initializer(string name, long[] dims, int type, byte[] raw) => Message(w =>
    {
        foreach (var d in dims)
        {
            Int(w, 1, d);
        }

        Int(w, 2, type);
        String(w, 8, name);
        Bytes(w, 9, raw);
    });

    private static byte[] ValueInfo(string name, int elementType, long?[] shape) => Message(w =>
    {
        String(w, 1, name);
        Bytes(w, 2, Message(t => Bytes(t, 1, Message(tensor =>
        {
            Int(tensor, 1, elementType);
            Bytes(tensor, 2, Message(s =>
            {
                foreach (var d in shape)
                {
                    Bytes(s, 1, Message(dim =>
                    {
                        if (d is { } value)
                        {
                            Int(dim, 1, value);
                        }
                        else
                        {
                            String(dim, 2, "batch");
                        }
                    }));
                }
            }));
        }))));
    });

    private static byte[] MemoryMarshalBytes(float[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static byte[] Message(Action<MemoryStream> build)
    {
        using var stream = new MemoryStream();
        build(stream);
        return stream.ToArray();
    }

    private static void Varint(MemoryStream w, ulong value)
    {
        while (value >= 0x80)
        {
            w.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        w.WriteByte((byte)value);
    }

    private static void Int(MemoryStream w, int field, long value)
    {
        Varint(w, (ulong)(field << 3));
        Varint(w, (ulong)value);
    }

    private static void Bytes(MemoryStream w, int field, byte[] bytes)
    {
        Varint(w, (ulong)((field << 3) | 2));
        Varint(w, (ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void String(MemoryStream w, int field, string value) => Bytes(w, field, Encoding.UTF8.GetBytes(value));
}
