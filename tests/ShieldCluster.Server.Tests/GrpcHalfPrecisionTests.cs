using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using ShieldCluster.Server.Grpc.Protocol;
using static ShieldCluster.Server.Tests.GrpcRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// FP16 <c>raw_input_contents</c> through a real gRPC client to the real server and its fp16
/// Identity model over 3x224x224 items: kept as they came for the fp16 batch and widened once for the
/// rest on arrival, answered in FP32.
/// </summary>
public class GrpcHalfPrecisionTests(HalfPrecisionServerFactory server) : IClassFixture<HalfPrecisionServerFactory>
{
    private const int Values = 3 * 224 * 224;

    [Fact]
    public async Task RawFp16Batch_IsAnsweredWithTheWidenedValues()
    {
        var values = new Half[2 * Values];
        var random = new Random(21);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (Half)random.NextSingle();
        }

        var response = await Client(server).ModelInferAsync(Request(values, batch: 2), Key(ShieldServerFactory.FuzzKey));

        var output = Assert.Single(response.Outputs);
        Assert.Equal(("output", "FP32"), (output.Name, output.Datatype));
        Assert.Equal([2L, 3, 224, 224], output.Shape);
        var answer = MemoryMarshal.Cast<byte, float>(Assert.Single(response.RawOutputContents).Span).ToArray();
        Assert.Equal(values.Select(v => (float)v), answer);
    }

    [Theory]
    [InlineData(-1, "has 150527 values; shape [1,3,224,224] needs 150528")]
    [InlineData(1, "has 150529 values; shape [1,3,224,224] needs 150528")]
    public async Task RawFp16_CountNotMatchingTheShape_IsInvalidArgumentAsBefore(int extra, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            Client(server).ModelInferAsync(Request(new Half[Values + extra], batch: 1), Key(ShieldServerFactory.FuzzKey)).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RawFp16_OddByteCount_IsInvalidArgumentAsBefore()
    {
        var request = Request(new Half[Values], batch: 1);
        request.RawInputContents[0] = ByteString.CopyFrom(request.RawInputContents[0].Span[1..]);

        var error = await Assert.ThrowsAsync<RpcException>(() => Client(server).ModelInferAsync(request, Key(ShieldServerFactory.FuzzKey)).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal($"input 'input': raw_input_contents has {(Values * 2) - 1} bytes, not a multiple of 2 (FP16)", error.Status.Detail);
    }

    private static ModelInferRequest Request(Half[] values, int batch)
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP16", Shape = { batch, 3, 224, 224 } };
        return new ModelInferRequest
        {
            ModelName = "half-image",
            Inputs = { input },
            RawInputContents = { ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) },
        };
    }
}
