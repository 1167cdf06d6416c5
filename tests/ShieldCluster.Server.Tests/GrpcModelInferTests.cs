using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ShieldCluster.Server.Grpc;
using ShieldCluster.Server.Grpc.Protocol;
using ShieldCluster.Server.Serving;
using static ShieldCluster.Server.Tests.GrpcRequests;
using static ShieldCluster.Server.Tests.GrpcWire;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// ModelInfer read by <see cref="ModelInferReader"/> in the real server: bound once in place of the
/// generated method, hand-written messages answered as the generated client's are, malformed ones
/// refused with InvalidArgument, and the rented tensors given back when a call is refused before
/// the pipeline has them.
/// </summary>
public class GrpcModelInferTests(ShieldServerFactory server) : IClassFixture<ShieldServerFactory>
{
    private GRPCInferenceService.GRPCInferenceServiceClient Grpc => Client(server);

    [Fact]
    public void EveryMethodIsBoundOnce_ModelInferWithTheRawTensorReader()
    {
        var methods = server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => e.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method)
            .OfType<IMethod>()
            .Where(m => m.ServiceName == "inference.GRPCInferenceService")
            .ToList();

        Assert.Equal(["ModelInfer", "ModelMetadata", "ModelReady", "ServerLive", "ServerMetadata", "ServerReady"], methods.Select(m => m.Name).Order());
        Assert.IsType<Method<ModelInferMessage, ModelInferResponse>>(methods.Single(m => m.Name == "ModelInfer"));
    }

    [Fact]
    public async Task HandWrittenMessage_FieldsOutOfOrderWithUnknownFields_IsAnsweredAsTheGeneratedClientIs()
    {
        var images = Images(40, 2);
        var bytes = Concat(
            Unknown(),
            Raw(images),
            String(ModelInferRequest.IdFieldNumber, "out-of-order"),
            Input("input", "FP32", 2, 1, 28, 28),
            Unknown(),
            String(ModelInferRequest.ModelNameFieldNumber, "no-such-model"),
            String(ModelInferRequest.ModelNameFieldNumber, Model));

        var written = await Invoker().AsyncUnaryCall(ModelInferBytes, null, new CallOptions(Key(ShieldServerFactory.AliceKey)), bytes);
        var generated = await Grpc.ModelInferAsync(Infer(images, raw: true), Key(ShieldServerFactory.FuzzKey));

        Assert.Equal("out-of-order", written.Id);
        Assert.Equal(Model, written.ModelName);
        Assert.Single(written.RawOutputContents);
        Assert.Equal([2L, 10], written.Outputs[0].Shape);
        Assert.Equal(Scores(generated), Scores(written));
    }

    public static TheoryData<string> Malformed => new()
    {
        "truncated in the raw tensor",
        "truncated in a tag",
        "wire type 7",
        "inputs not a message",
        "unterminated group",
        "garbage",
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task MalformedMessage_IsInvalidArgumentWithAMessage_AndTheServerServesOn(string problem)
    {
        var valid = Concat(String(ModelInferRequest.ModelNameFieldNumber, Model), Input("input", "FP32", 1, 1, 28, 28), Raw(Images(50, 1)));
        byte[] bytes = problem switch
        {
            "truncated in the raw tensor" => valid[..^100],
            "truncated in a tag" => [.. valid, 0xA0],
            "wire type 7" => [.. valid, 0x0F],
            "inputs not a message" => [.. valid, 0x2A, 0x02, 0xFF, 0xFF],
            "unterminated group" => [.. valid, 0xA3, 0x01, 0x08, 0x01],
            _ => [.. Enumerable.Range(0, 4096).Select(i => (byte)((i * 7919) ^ (i >> 3)))],
        };

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            Invoker().AsyncUnaryCall(ModelInferBytes, null, new CallOptions(Key(ShieldServerFactory.AliceKey)), bytes).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("malformed ModelInferRequest: ", error.Status.Detail, StringComparison.Ordinal);
        var answered = await Invoker().AsyncUnaryCall(ModelInferBytes, null, new CallOptions(Key(ShieldServerFactory.AliceKey)), valid);
        Assert.Single(Predictions(answered));
    }

    [Theory]
    [InlineData("no key", StatusCode.Unauthenticated, 1)]
    [InlineData("unknown model", StatusCode.NotFound, 2)]
    [InlineData("contents and raw", StatusCode.InvalidArgument, 3)]
    [InlineData("two raw entries for one input", StatusCode.InvalidArgument, 4)]
    public async Task RefusedBeforeThePipeline_TheRentedTensorGoesBackToThePool(string problem, StatusCode expected, int lengthOffset)
    {
        // A length no other test uses; the pool keeps a queue for it once it has held one array.
        var length = TensorBuffers.MinLength + 40_000 + lengthOffset;
        var probe = new float[length];
        TensorBuffers.Return(probe);
        Assert.True(ReferenceEquals(probe, TensorBuffers.Rent(length)), "the tensor pool keeps no arrays of a new length (too many lengths in use)");

        var values = Enumerable.Repeat(0.25f, length).ToArray();
        var request = Infer(values, raw: true);
        request.Inputs[0].Shape[0] = 1;
        var key = ShieldServerFactory.AliceKey;
        switch (problem)
        {
            case "no key":
                key = null;
                break;
            case "unknown model":
                request.ModelName = "no-such-model";
                break;
            case "contents and raw":
                request.Inputs[0].Contents = new InferTensorContents { Fp32Contents = { 0.5f } };
                break;
            default:
                request.RawInputContents.Add(request.RawInputContents[0]);
                break;
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(request, Key(key)).ResponseAsync);
        Assert.Equal(expected, error.StatusCode);

        // The server decoded the raw bytes into a rented array and handed it back: the next rental
        // of that length gets it, values and all (a new array would hold zeros).
        var back = TensorBuffers.Rent(length);
        Assert.Equal(0.25f, back[0]);
        Assert.Equal(0.25f, back[^1]);
    }

    private CallInvoker Invoker() =>
        GrpcChannel.ForAddress(server.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = server.Server.CreateHandler() }).CreateCallInvoker();
}
