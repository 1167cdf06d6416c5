using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using ShieldCluster.Server.Grpc.Protocol;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// ModelInferRequest wire bytes written field by field, in whatever order a test wants (Google.Protobuf
/// always writes fields in number order), sent as they are, and payloads cut into segments as a
/// connection's buffers are.
/// </summary>
internal static class GrpcWire
{
    /// <summary>ModelInfer with the request as bytes, as written: a client whose encoder is not Google.Protobuf.</summary>
    public static readonly Method<byte[], ModelInferResponse> ModelInferBytes = new(
        MethodType.Unary,
        "inference.GRPCInferenceService",
        "ModelInfer",
        Marshallers.Create<byte[]>(b => b, b => b),
        Marshallers.Create<ModelInferResponse>(r => r.ToByteArray(), ModelInferResponse.Parser.ParseFrom));

    /// <summary>One top-level field's bytes.</summary>
    public static byte[] Field(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        write(output);
        output.Flush();
        return stream.ToArray();
    }

    public static byte[] String(int field, string value) => Field(o =>
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    });

    public static byte[] Bytes(int field, ReadOnlySpan<byte> value)
    {
        var copy = ByteString.CopyFrom(value);
        return Field(o =>
        {
            o.WriteTag(field, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(copy);
        });
    }

    public static byte[] Message(int field, IMessage value) => Field(o =>
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteMessage(value);
    });

    public static byte[] Input(string name, string datatype, params long[] shape) => Message(
        ModelInferRequest.InputsFieldNumber,
        new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = datatype, Shape = { shape } });

    public static byte[] RawBytes(ReadOnlySpan<byte> bytes) => Bytes(ModelInferRequest.RawInputContentsFieldNumber, bytes);

    public static byte[] Raw(float[] values) => RawBytes(MemoryMarshal.AsBytes(values.AsSpan()));

    public static byte[] Raw(Half[] values) => RawBytes(MemoryMarshal.AsBytes(values.AsSpan()));

    /// <summary>Unknown fields of every wire type, a group holding a field 7 among them.</summary>
    public static byte[] Unknown() => Field(o =>
    {
        o.WriteTag(20, WireFormat.WireType.Varint);
        o.WriteUInt64(ulong.MaxValue);
        o.WriteTag(21, WireFormat.WireType.Fixed64);
        o.WriteFixed64(0x0102030405060708);
        o.WriteTag(22, WireFormat.WireType.Fixed32);
        o.WriteFixed32(0x01020304);
        o.WriteTag(23, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(Raw(new[] { 1f, 2f })));
        o.WriteTag(24, WireFormat.WireType.StartGroup);
        o.WriteTag(7, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(1, 2, 3, 4));
        o.WriteTag(25, WireFormat.WireType.StartGroup);
        o.WriteTag(1, WireFormat.WireType.Varint);
        o.WriteInt32(5);
        o.WriteTag(25, WireFormat.WireType.EndGroup);
        o.WriteTag(24, WireFormat.WireType.EndGroup);
        // Field 7 with another wire type than its own: an unknown field, as Google.Protobuf reads it.
        o.WriteTag(7, WireFormat.WireType.Varint);
        o.WriteInt32(9);
    });

    public static byte[] Concat(params byte[][] fields) => [.. fields.SelectMany(f => f)];

    /// <summary><paramref name="bytes"/> as a sequence of segments of at most <paramref name="segment"/> bytes.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] bytes, int segment)
    {
        if (bytes.Length <= segment)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        Segment? first = null;
        Segment? last = null;
        for (var start = 0; start < bytes.Length; start += segment)
        {
            var next = new Segment(bytes.AsMemory(start, Math.Min(segment, bytes.Length - start)), last);
            first ??= next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}
