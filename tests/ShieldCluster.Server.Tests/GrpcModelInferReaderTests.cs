using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using ShieldCluster.Server.Grpc;
using ShieldCluster.Server.Grpc.Protocol;
using ShieldCluster.Server.Serving;
using static ShieldCluster.Server.Tests.GrpcWire;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// <see cref="ModelInferReader"/> on hand-written wire bytes: the same request as Google.Protobuf
/// parses, whatever the field order, repetitions, unknown fields and segmentation; raw tensors
/// decoded into float arrays; every malformed message InvalidArgument.
/// </summary>
public class GrpcModelInferReaderTests
{
    private static readonly float[] A = [0.5f, -1.25f, 3f, float.MaxValue];
    private static readonly Half[] B = [(Half)0.1f, (Half)(-2f), Half.MaxValue, Half.Epsilon, (Half)1f, (Half)0f];

    /// <summary>Every kind of top-level field, two raw entries (FP32, FP16) among them.</summary>
    private static byte[][] Fields() =>
    [
        String(ModelInferRequest.ModelNameFieldNumber, "first-name"),
        String(ModelInferRequest.ModelVersionFieldNumber, "3"),
        String(ModelInferRequest.IdFieldNumber, "request-7"),
        Bytes(ModelInferRequest.ParametersFieldNumber, Concat(String(1, "k"), Message(2, new InferParameter { Int64Param = 42 }))),
        Input("a", "FP32", 1, 4),
        Input("b", "FP16", 2, 3),
        Message(ModelInferRequest.OutputsFieldNumber, new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "out" }),
        Raw(A),
        Raw(B),
        Unknown(),
        String(ModelInferRequest.ModelNameFieldNumber, "last-name"),
    ];

    [Fact]
    public void Read_FieldsInCanonicalOrder_DecodesEachRawEntryByItsInputsDatatype()
    {
        var message = ModelInferReader.Read(new ReadOnlySequence<byte>(Concat(Fields())));

        Assert.Equal("last-name", message.Fields.ModelName);
        Assert.Equal(("3", "request-7"), (message.Fields.ModelVersion, message.Fields.Id));
        Assert.Equal(42, message.Fields.Parameters["k"].Int64Param);
        Assert.Equal(["a", "b"], message.Fields.Inputs.Select(i => i.Name));
        Assert.Equal("out", Assert.Single(message.Fields.Outputs).Name);
        Assert.Empty(message.Fields.RawInputContents);
        Assert.Equal(2, message.RawInputContents.Count);
        Assert.Equal(16, message.RawInputContents[0].Length);
        Assert.Equal(A, message.RawInputContents[0].Values);
        Assert.Equal(12, message.RawInputContents[1].Length);
        Assert.Equal(B, message.RawInputContents[1].Halves!);
        Assert.Null(message.RawInputContents[1].Values);
    }

    [Fact]
    public void Read_FieldsInAnyOrder_SameRequestAsGoogleProtobuf()
    {
        var random = new Random(11);
        for (var i = 0; i < 200; i++)
        {
            var fields = Fields();
            random.Shuffle(fields);
            AssertSameAsGoogleProtobuf(Concat(fields));
        }
    }

    [Fact]
    public void Read_RawEntriesBeforeTheirInputs_StillDecodedByTheInputsDatatype()
    {
        var message = ModelInferReader.Read(new ReadOnlySequence<byte>(Concat(Raw(B), Raw(A), Input("b", "FP16", 6), Input("a", "FP32", 4))));

        Assert.Equal(B, message.RawInputContents[0].Halves!);
        Assert.Equal(A, message.RawInputContents[1].Values);
    }

    [Fact]
    public void Read_UnknownFields_AreSkipped_AndKeptAsGoogleProtobufKeepsThem()
    {
        var bytes = Concat(Unknown(), Input("a", "FP32", 4), Unknown(), Raw(A), Unknown());
        var message = ModelInferReader.Read(new ReadOnlySequence<byte>(bytes));

        // Neither the field 7 inside a group nor field 7 as a varint is a raw entry.
        Assert.Equal(A, Assert.Single(message.RawInputContents).Values);
        Assert.Equal(ModelInferRequest.Parser.ParseFrom(Concat(Unknown(), Input("a", "FP32", 4), Unknown(), Unknown())), message.Fields);
        Assert.NotEqual(ModelInferRequest.Parser.ParseFrom(Input("a", "FP32", 4)), message.Fields);
        AssertSameAsGoogleProtobuf(bytes);
    }

    [Fact]
    public void Read_SeveralInputs_DecodesServedDatatypes_AndKeepsOnlyTheLengthOfOthers()
    {
        var c = new float[TensorBuffers.MinLength + 3];
        for (var i = 0; i < c.Length; i++)
        {
            c[i] = i * 0.5f;
        }

        var message = ModelInferReader.Read(new ReadOnlySequence<byte>(Concat(
            Input("a", "FP32", 4), Input("b", "FP16", 6), Input("c", "FP32", c.Length), Input("d", "INT8", 3), Input("e", "FP32", 1),
            Raw(A), Raw(B), Raw(c), RawBytes([1, 2, 3]), RawBytes([1, 2, 3]), RawBytes([9, 9, 9, 9]))));

        var raw = message.RawInputContents;
        Assert.Equal(6, raw.Count);
        Assert.Equal(A, raw[0].Values);
        Assert.Equal(B, raw[1].Halves!);
        Assert.Equal(c, raw[2].Values);
        Assert.Equal(new RawInput(3, null), raw[3]);
        Assert.Equal(new RawInput(3, null), raw[4]);
        Assert.Equal(new RawInput(4, null), raw[5]);
    }

    [Fact]
    public void Read_LargeFp16_IsKeptAsItCame()
    {
        var values = new Half[3 * 224 * 224];
        var random = new Random(3);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (Half)((random.NextSingle() * 2) - 1);
        }

        var message = ModelInferReader.Read(Segmented(Concat(Input("x", "FP16", 1, 3, 224, 224), Raw(values)), 64 * 1024));

        var decoded = Assert.Single(message.RawInputContents);
        Assert.Null(decoded.Values);
        Assert.Equal(values.Length, decoded.Halves!.Length);
        Assert.Equal(values.Select(BitConverter.HalfToUInt16Bits), decoded.Halves.Select(BitConverter.HalfToUInt16Bits));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Read_PayloadInSegments_SameAsInOnePiece(int segment)
    {
        var bytes = Concat(Fields());
        var whole = ModelInferReader.Read(new ReadOnlySequence<byte>(bytes));
        var cut = ModelInferReader.Read(Segmented(bytes, segment));

        Assert.Equal(whole.Fields, cut.Fields);
        Assert.Equal(whole.RawInputContents.Select(r => r.Values), cut.RawInputContents.Select(r => r.Values));
        Assert.Equal(whole.RawInputContents.Select(r => r.Halves), cut.RawInputContents.Select(r => r.Halves));
        AssertSameAsGoogleProtobuf(Segmented(bytes, segment));
    }

    [Fact]
    public void Read_EveryTruncation_IsInvalidArgument_UnlessItEndsBetweenFields()
    {
        var bytes = Concat(Fields());
        var refused = 0;
        for (var length = 0; length < bytes.Length; length++)
        {
            refused += AssertSameAsGoogleProtobuf(bytes[..length]) ? 0 : 1;
        }

        Assert.True(refused > bytes.Length / 2, $"only {refused} of {bytes.Length} truncations were refused");
    }

    [Theory]
    [InlineData("00", "number 0")]
    [InlineData("3a", "ends in the middle")]
    [InlineData("3a05010203", "ends in the middle")]
    [InlineData("3affffffff0f", "negative length")]
    [InlineData("3a80808080808080808080", "longer than 10 bytes")]
    [InlineData("a0018080", "ends in the middle")]
    [InlineData("0e", "wire type 6")]
    [InlineData("0f", "wire type 7")]
    [InlineData("0c", "wire type 4")]
    [InlineData("a301ac01", "end tag of field 21")]
    [InlineData("a301", "ends in the middle")]
    [InlineData("a9010102", "ends in the middle")]
    [InlineData("2a03ffffff", "malformed ModelInferRequest")]
    [InlineData("0a02c0", "malformed ModelInferRequest")]
    [InlineData("0a01ff", "malformed ModelInferRequest")]
    [InlineData("1a0a0a01ff120446503332", "malformed ModelInferRequest")]
    public void Read_MalformedMessage_IsInvalidArgumentWithAMessage(string hex, string expected)
    {
        var error = Assert.Throws<RpcException>(() => ModelInferReader.Read(new ReadOnlySequence<byte>(Convert.FromHexString(hex))));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("malformed ModelInferRequest: ", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(expected, error.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(99)]
    [InlineData(100)]
    [InlineData(101)]
    public void Read_NestedGroups_AcceptedAsDeepAsGoogleProtobufAccepts(int depth)
    {
        var open = Field(o =>
        {
            for (var i = 0; i < depth; i++)
            {
                o.WriteTag(30, WireFormat.WireType.StartGroup);
            }

            for (var i = 0; i < depth; i++)
            {
                o.WriteTag(30, WireFormat.WireType.EndGroup);
            }
        });

        AssertSameAsGoogleProtobuf(Concat(Input("a", "FP32", 4), open, Raw(A)));
    }

    [Fact]
    public void Read_MutatedMessages_AgreeWithGoogleProtobuf()
    {
        var original = Concat(Fields());
        var random = new Random(17);
        var refused = 0;
        for (var i = 0; i < 3000; i++)
        {
            var bytes = original.ToList();
            for (var edits = random.Next(1, 4); edits > 0; edits--)
            {
                var at = random.Next(bytes.Count);
                switch (random.Next(3))
                {
                    case 0:
                        bytes[at] = (byte)random.Next(256);
                        break;
                    case 1:
                        bytes.RemoveAt(at);
                        break;
                    default:
                        bytes.Insert(at, (byte)random.Next(256));
                        break;
                }
            }

            refused += AssertSameAsGoogleProtobuf(Segmented([.. bytes], 1 + random.Next(64))) ? 0 : 1;
        }

        Assert.InRange(refused, 300, 2900);
    }

    [Fact]
    public void ReturnTensors_HandsTheDecodedArraysBack_Once()
    {
        // A length no other test uses, so the shared pool holds nothing of it.
        var values = new float[TensorBuffers.MinLength + 31_337];
        values[7] = 7f;
        var message = ModelInferReader.Read(new ReadOnlySequence<byte>(Concat(Input("a", "FP32", values.Length), Raw(values))));
        var rented = message.RawInputContents[0].Values!;
        Assert.Equal(7f, rented[7]);

        message.ReturnTensors();
        message.ReturnTensors();

        Assert.Equal(new RawInput(values.Length * 4, null), message.RawInputContents[0]);
        Assert.Same(rented, TensorBuffers.Rent(values.Length));
        Assert.NotSame(rented, TensorBuffers.Rent(values.Length));
    }

    [Fact]
    public void GrpcTensors_RawEntries_BecomeTheInputsData_WithoutACopy()
    {
        var message = ModelInferReader.Read(new ReadOnlySequence<byte>(Concat(Input("a", "FP32", 1, 4), Input("b", "FP16", 6), Raw(A), Raw(B))));

        var request = GrpcTensors.ToRequest(message.Fields, message.RawInputContents, out var raw);

        Assert.True(raw);
        Assert.Same(message.RawInputContents[0].Values, request.Inputs[0].Data);
        Assert.Same(message.RawInputContents[1].Values, request.Inputs[1].Data);
    }

    [Theory]
    [InlineData("1 raw entry for 2 inputs", "raw_input_contents has 1 entries for 2 inputs; it needs one per input, in input order")]
    [InlineData("odd FP16 length", "input 'b': raw_input_contents has 5 bytes, not a multiple of 2 (FP16)")]
    [InlineData("contents and raw", "input 'a' has both 'contents' and raw_input_contents; send one or the other")]
    public void GrpcTensors_InconsistentRawEntries_AreRefusedAsBefore(string problem, string expected)
    {
        var a = new ModelInferRequest.Types.InferInputTensor { Name = "a", Datatype = "FP32", Shape = { 4 } };
        byte[] bytes = problem switch
        {
            "1 raw entry for 2 inputs" => Concat(Message(5, a), Input("b", "FP16", 6), Raw(A)),
            "odd FP16 length" => Concat(Message(5, a), Input("b", "FP16", 6), Raw(A), RawBytes([1, 2, 3, 4, 5])),
            _ => Concat(Message(5, new ModelInferRequest.Types.InferInputTensor(a) { Contents = new InferTensorContents { Fp32Contents = { A } } }), Raw(A)),
        };
        var message = ModelInferReader.Read(new ReadOnlySequence<byte>(bytes));

        var error = Assert.Throws<ShieldCluster.Server.Http.ApiException>(() => GrpcTensors.ToRequest(message.Fields, message.RawInputContents, out _));

        Assert.Equal(expected, error.Message);

        // The message built in process, with ByteStrings, is refused the same way.
        var parsed = ModelInferRequest.Parser.ParseFrom(bytes);
        Assert.Equal(expected, Assert.Throws<ShieldCluster.Server.Http.ApiException>(() => GrpcTensors.ToRequest(parsed, out _)).Message);
    }

    /// <summary>
    /// Reads <paramref name="payload"/> with <see cref="ModelInferReader"/> and with Google.Protobuf:
    /// both refuse it (the reader with InvalidArgument), or both accept it with the same fields and
    /// the same raw entries; true where accepted.
    /// </summary>
    private static bool AssertSameAsGoogleProtobuf(ReadOnlySequence<byte> payload)
    {
        ModelInferRequest expected;
        try
        {
            expected = ModelInferRequest.Parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException)
        {
            var error = Assert.Throws<RpcException>(() => ModelInferReader.Read(payload));
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.StartsWith("malformed ModelInferRequest: ", error.Status.Detail, StringComparison.Ordinal);
            return false;
        }

        var actual = ModelInferReader.Read(payload);
        var raw = expected.RawInputContents.ToArray();
        expected.RawInputContents.Clear();
        Assert.Equal(expected, actual.Fields);
        Assert.Equal(raw.Length, actual.RawInputContents.Count);
        for (var i = 0; i < raw.Length; i++)
        {
            var datatype = i < expected.Inputs.Count ? expected.Inputs[i].Datatype : null;
            var decoded = RawInput.Decode(datatype, new ReadOnlySequence<byte>(raw[i].Memory));
            Assert.Equal(decoded.Values, actual.RawInputContents[i].Values);
            Assert.Equal(decoded.Halves, actual.RawInputContents[i].Halves);
            Assert.Equal(raw[i].Length, actual.RawInputContents[i].Length);
        }

        return true;
    }

    private static bool AssertSameAsGoogleProtobuf(byte[] bytes) => AssertSameAsGoogleProtobuf(new ReadOnlySequence<byte>(bytes));
}
