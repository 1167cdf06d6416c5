using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ShieldCluster.Testing;

/// <summary>
/// Small real ONNX models written at test time, so no large model sits in the repository: the graph
/// is ONNX protobuf written field by field (onnx.proto3: ModelProto, GraphProto, NodeProto,
/// TensorProto, ValueInfoProto, TypeProto.Tensor, TensorShapeProto; no onnx package needed), and a
/// model repository entry is the file plus a config.json carrying its sha256, as the server requires.
/// </summary>
public static class OnnxModels
{
    /// <summary>ONNX's <c>TensorProto.DataType</c> for float.</summary>
    public const int Float = 1;

    /// <summary>ONNX's <c>TensorProto.DataType</c> for float16.</summary>
    public const int Float16 = 10;

    /// <summary>ONNX's <c>TensorProto.DataType</c> for int64.</summary>
    public const int Int64 = 7;

    /// <summary>One <c>Identity</c> node from <c>input</c> to <c>output</c> over items of <paramref name="itemDims"/>, batch dimension symbolic.</summary>
    public static byte[] Identity(int elementType, IReadOnlyList<long> itemDims)
    {
        long?[] shape = [null, .. itemDims.Select(d => (long?)d)];
        return Model(Graph(
            [Node("Identity", ["input"], ["output"])],
            [],
            ValueInfo("input", elementType, shape),
            ValueInfo("output", elementType, shape)));
    }

    /// <summary>
    /// Writes model <paramref name="name"/> version 1 under <paramref name="repository"/>: the
    /// <see cref="Identity"/> graph and a config.json with max_batch_size 8 and input range [0, 1],
    /// and <c>dynamic_batching</c> with <paramref name="queueDelayMicroseconds"/> when that is given.
    /// </summary>
    public static void WriteIdentity(string repository, string name, int elementType, long[] itemDims, string inputType, string outputType, int? queueDelayMicroseconds = null)
    {
        var dims = new JsonArray([.. itemDims.Select(d => JsonValue.Create(d))]);
        var config = new JsonObject
        {
            ["max_batch_size"] = 8,
            ["input"] = new JsonArray(new JsonObject { ["name"] = "input", ["data_type"] = inputType, ["dims"] = dims.DeepClone(), ["range"] = new JsonArray(0.0, 1.0) }),
            ["output"] = new JsonArray(new JsonObject { ["name"] = "output", ["data_type"] = outputType, ["dims"] = dims.DeepClone() }),
        };
        if (queueDelayMicroseconds is { } delay)
        {
            config["dynamic_batching"] = new JsonObject { ["max_queue_delay_microseconds"] = delay };
        }

        WriteEntry(repository, name, Identity(elementType, itemDims), config);
    }

    /// <summary>
    /// Writes <paramref name="model"/> as version 1 of model <paramref name="name"/> and its
    /// config.json: <paramref name="config"/> plus the name, platform and the file's sha256.
    /// </summary>
    /// <returns>The model's directory.</returns>
    public static string WriteEntry(string repository, string name, byte[] model, JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var directory = Path.Combine(repository, name);
        Directory.CreateDirectory(Path.Combine(directory, "1"));
        File.WriteAllBytes(Path.Combine(directory, "1", "model.onnx"), model);
        config["name"] = name;
        config["platform"] = "onnxruntime_onnx";
        config["sha256"] = new JsonObject { ["1"] = new JsonObject { ["model.onnx"] = Convert.ToHexStringLower(SHA256.HashData(model)) } };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
        return directory;
    }

    /// <summary>A ModelProto (IR version 8, default opset 13) around <paramref name="graph"/>.</summary>
    public static byte[] Model(byte[] graph) => Message(w =>
    {
        Int(w, 1, 8); // ir_version
        String(w, 2, "shieldcluster-tests"); // producer_name
        Bytes(w, 8, Message(o => Int(o, 2, 13))); // opset_import { version: 13 }
        Bytes(w, 7, graph);
    });

    /// <summary>A GraphProto of <paramref name="nodes"/> and <paramref name="initializers"/>, one input and one output.</summary>
    public static byte[] Graph(byte[][] nodes, byte[][] initializers, byte[] input, byte[] output) => Message(w =>
    {
        foreach (var node in nodes)
        {
            Bytes(w, 1, node);
        }

        String(w, 2, "test-graph");
        foreach (var initializer in initializers)
        {
            Bytes(w, 5, initializer);
        }

        Bytes(w, 11, input);
        Bytes(w, 12, output);
    });

    /// <summary>A NodeProto of operator <paramref name="op"/> with integer attributes.</summary>
    public static byte[] Node(string op, string[] inputs, string[] outputs, params (string Name, long Value)[] attributes) => Message(w =>
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

    /// <summary>A TensorProto initializer with its values as raw little-endian bytes.</summary>
    public static byte[] Initializer(string name, long[] dims, int type, byte[] raw) => Message(w =>
    {
        foreach (var d in dims)
        {
            Int(w, 1, d);
        }

        Int(w, 2, type);
        String(w, 8, name);
        Bytes(w, 9, raw);
    });

    /// <summary>A ValueInfoProto of a tensor; a null dimension is the symbolic <c>batch</c>.</summary>
    public static byte[] ValueInfo(string name, int elementType, long?[] shape) => Message(w =>
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
