using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using ShieldCluster.Server.Grpc.Protocol;
using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Grpc;

/// <summary>
/// Reads a ModelInferRequest from its protobuf wire form without copying <c>raw_input_contents</c>
/// into ByteStrings: a 3x224x224 FP32 image (602 KB) went from the connection's buffers into a new,
/// zeroed large-object array, then again into its float array; here it is copied once, from the
/// connection's buffers into a rented float array (<see cref="RawInput.Decode"/>).
/// </summary>
/// <remarks>
/// One pass over the top-level fields finds every <c>raw_input_contents</c> (field 7) entry and
/// skips every other field, unknown ones and groups included, by its wire type. The runs of fields
/// between the entries are merged, in order, into one <see cref="ModelInferRequest"/> by
/// Google.Protobuf: merging consecutive runs of whole fields is what parsing their concatenation
/// means in protobuf, so fields may come in any order, repeated, and unknown fields are kept as
/// Google.Protobuf keeps them. The entries are decoded last, once every input's datatype is known.
/// Malformed messages are refused with <see cref="StatusCode.InvalidArgument"/>; the message size
/// limit applies before this runs (Grpc.AspNetCore's <c>MaxReceiveMessageSize</c>).
/// </remarks>
public static class ModelInferReader
{
    /// <summary>Google.Protobuf's default recursion limit: how deeply groups may nest.</summary>
    private const int MaxDepth = 100;

    private static readonly uint RawInputContentsTag =
        WireFormat.MakeTag(ModelInferRequest.RawInputContentsFieldNumber, WireFormat.WireType.LengthDelimited);

    /// <summary>
    /// The request in <paramref name="payload"/> (one whole message); <see cref="RpcException"/>
    /// InvalidArgument, with nothing left rented, where it is not a well-formed ModelInferRequest.
    /// </summary>
    public static ModelInferMessage Read(in ReadOnlySequence<byte> payload)
    {
        var fields = new ModelInferRequest();
        var raw = new List<(long Start, int Length)>(1);
        var reader = new SequenceReader<byte>(payload);
        long run = 0;
        while (!reader.End)
        {
            var fieldStart = reader.Consumed;
            var tag = ReadTag(ref reader);
            if (tag != RawInputContentsTag)
            {
                SkipField(ref reader, tag, depth: 0);
                continue;
            }

            var length = ReadLength(ref reader);
            Merge(fields, payload, run, fieldStart);
            raw.Add((reader.Consumed, length));
            reader.Advance(length);
            run = reader.Consumed;
        }

        Merge(fields, payload, run, reader.Consumed);
        return new ModelInferMessage(fields, Decode(fields, payload, raw));
    }

    private static RawInput[] Decode(ModelInferRequest fields, in ReadOnlySequence<byte> payload, List<(long Start, int Length)> entries)
    {
        var raw = new RawInput[entries.Count];
        try
        {
            for (var i = 0; i < raw.Length; i++)
            {
                // The i-th entry belongs to the i-th input; entries without one are refused later (by count).
                var datatype = i < fields.Inputs.Count ? fields.Inputs[i].Datatype : null;
                raw[i] = RawInput.Decode(datatype, payload.Slice(entries[i].Start, entries[i].Length));
            }
        }
        catch
        {
            foreach (var entry in raw)
            {
                entry.Return();
            }

            throw;
        }

        return raw;
    }

    private static void Merge(ModelInferRequest fields, in ReadOnlySequence<byte> payload, long start, long end)
    {
        if (end == start)
        {
            return;
        }

        try
        {
            fields.MergeFrom(payload.Slice(start, end - start));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw Malformed(ex.Message);
        }
    }

    private static void SkipField(ref SequenceReader<byte> reader, uint tag, int depth)
    {
        switch (WireFormat.GetTagWireType(tag))
        {
            case WireFormat.WireType.Varint:
                ReadVarint(ref reader);
                break;
            case WireFormat.WireType.Fixed64:
                Skip(ref reader, 8);
                break;
            case WireFormat.WireType.LengthDelimited:
                Skip(ref reader, ReadLength(ref reader));
                break;
            case WireFormat.WireType.StartGroup:
                SkipGroup(ref reader, WireFormat.GetTagFieldNumber(tag), depth + 1);
                break;
            case WireFormat.WireType.Fixed32:
                Skip(ref reader, 4);
                break;
            default:
                throw Malformed($"field {WireFormat.GetTagFieldNumber(tag)} has wire type {(int)WireFormat.GetTagWireType(tag)}, which is not valid here");
        }
    }

    private static void SkipGroup(ref SequenceReader<byte> reader, int field, int depth)
    {
        if (depth > MaxDepth)
        {
            throw Malformed($"groups nest more than {MaxDepth} deep");
        }

        while (true)
        {
            if (reader.End)
            {
                throw Truncated();
            }

            var tag = ReadTag(ref reader);
            if (WireFormat.GetTagWireType(tag) != WireFormat.WireType.EndGroup)
            {
                SkipField(ref reader, tag, depth);
                continue;
            }

            if (WireFormat.GetTagFieldNumber(tag) != field)
            {
                throw Malformed($"group {field} ends with the end tag of field {WireFormat.GetTagFieldNumber(tag)}");
            }

            return;
        }
    }

    private static uint ReadTag(ref SequenceReader<byte> reader)
    {
        // As Google.Protobuf reads a tag: a varint of up to 10 bytes whose low 32 bits count.
        var tag = (uint)ReadVarint(ref reader);
        if (WireFormat.GetTagFieldNumber(tag) == 0)
        {
            throw Malformed("a field has number 0");
        }

        return tag;
    }

    private static int ReadLength(ref SequenceReader<byte> reader)
    {
        var length = (int)(uint)ReadVarint(ref reader);
        if (length < 0)
        {
            throw Malformed("a field has a negative length");
        }

        if (length > reader.Remaining)
        {
            throw Truncated();
        }

        return length;
    }

    private static ulong ReadVarint(ref SequenceReader<byte> reader)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                throw Truncated();
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Malformed("a varint is longer than 10 bytes");
    }

    private static void Skip(ref SequenceReader<byte> reader, int count)
    {
        if (reader.Remaining < count)
        {
            throw Truncated();
        }

        reader.Advance(count);
    }

    private static RpcException Truncated() => Malformed("the message ends in the middle of a field");

    private static RpcException Malformed(string detail) =>
        new(new Status(StatusCode.InvalidArgument, $"malformed ModelInferRequest: {detail}"));
}
