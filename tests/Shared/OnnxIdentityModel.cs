using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ShieldCluster.Testing;

/// <summary>
/// Writes the smallest real ONNX model a test can serve: one <c>Identity</c> node from input
/// <c>input</c> to output <c>output</c>, of a chosen element type and item shape with a symbolic
/// batch dimension, as ONNX protobuf written field by field (onnx.proto3: ModelProto, GraphProto,
/// NodeProto, ValueInfoProto, TypeProto.Tensor, TensorShapeProto), plus a model repository entry.
/// </summary>
public static class OnnxIdentityModel
{
    /// <summary>ONNX's <c>TensorProto.DataType</c> for float.</summary>
    public const int Float = 1;

    /// <summary>ONNX's <c>TensorProto.DataType</c> for float16.</summary>
    public const int Float16 = 10;

    /// <summary>ONNX's <c>TensorProto.DataType</c> for int64.</summary>
    public const int Int64 = 7;

    /// <summary>The model's bytes.</summary>
    public static byte[] Bytes(int elementType, IReadOnlyList<long> itemDims)
    {
        byte[] Tensor(string name) => Message(
            Text(1, name),
            Field(2, Message(Field(1, Message(
                Varint(1, elementType),
                Field(2, Message([Field(1, Message(Text(2, "batch"))), .. itemDims.Select(d => Field(1, Message(Varint(1, d))))])))))));
        var node = Message(Text(1, "input"), Text(2, "output"), Text(4, "Identity"));
        var graph = Message(Field(1, node), Text(2, "identity"), Field(11, Tensor("input")), Field(12, Tensor("output")));
        return Message(Varint(1, 8), Field(8, Message(Text(1, ""), Varint(2, 13))), Field(7, graph));
    }

    /// <summary>
    /// Writes model <paramref name="name"/> version 1 under <paramref name="repository"/>: the ONNX
    /// file and a config.json with its digest, max_batch_size 8, input range [0, 1].
    /// </summary>
    public static void Write(string repository, string name, int elementType, long[] itemDims, string inputType, string outputType)
    {
        var directory = Path.Combine(repository, name);
        Directory.CreateDirectory(Path.Combine(directory, "1"));
        var bytes = Bytes(elementType, itemDims);
        File.WriteAllBytes(Path.Combine(directory, "1", "model.onnx"), bytes);
        var dims = new JsonArray([.. itemDims.Select(d => JsonValue.Create(d))]);
        var config = new JsonObject
        {
            ["name"] = name,
            ["platform"] = "onnxruntime_onnx",
            ["max_batch_size"] = 8,
            ["input"] = new JsonArray(new JsonObject { ["name"] = "input", ["data_type"] = inputType, ["dims"] = dims.DeepClone(), ["range"] = new JsonArray(0.0, 1.0) }),
            ["output"] = new JsonArray(new JsonObject { ["name"] = "output", ["data_type"] = outputType, ["dims"] = dims.DeepClone() }),
            ["sha256"] = new JsonObject { ["1"] = new JsonObject { ["model.onnx"] = Convert.ToHexStringLower(SHA256.HashData(bytes)) } },
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
    }

    private static byte[] Message(params byte[][] fields) => [.. fields.SelectMany(f => f)];

    private static byte[] Field(int number, byte[] payload) => [.. Key(number, 2), .. VarintBytes((ulong)payload.Length), .. payload];

    private static byte[] Text(int number, string value) => Field(number, Encoding.UTF8.GetBytes(value));

    private static byte[] Varint(int number, long value) => [.. Key(number, 0), .. VarintBytes((ulong)value)];

    private static byte[] Key(int number, int wireType) => VarintBytes((ulong)((number << 3) | wireType));

    private static byte[] VarintBytes(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return [.. bytes];
    }
}
