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

    /// <summary>
    /// Byte-level mutations of real ModelInfer messages (raw tensors and typed contents) through the
    /// real server: whatever arrives, the answer is a result or a refusal with a code a client can
    /// act on and a message, never Internal or Unknown (gRPC's 5xx), and the server serves on.
    /// </summary>
    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    public async Task MutatedMessages_AreNeverInternal(int seed)
    {
        var random = new Random(seed);
        var raw = Infer(Images(seed, 1), raw: true);
        raw.Id = "fuzz";
        var typed = Infer(Images(seed + 1, 2), raw: false);
        typed.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "probabilities" });
        byte[][] valid = [raw.ToByteArray(), typed.ToByteArray()];
        var invoker = Invoker();
        var refused = 0;
        for (var i = 0; i < 200; i++)
        {
            var bytes = valid[i % 2].ToList();
            for (var m = random.Next(1, 4); m > 0 && bytes.Count > 0; m--)
            {
                var at = random.Next(Math.Min(bytes.Count, random.Next(2) == 0 ? 64 : bytes.Count));
                switch (random.Next(4))
                {
                    case 0:
                        bytes[at] = (byte)random.Next(256);
                        break;
                    case 1:
                        bytes.Insert(at, (byte)random.Next(256));
                        break;
                    case 2:
                        bytes.RemoveAt(at);
                        break;
                    default:
                        bytes[at] = (byte)(bytes[at] ^ (1 << random.Next(8)));
                        break;
                }
            }

            try
            {
                await invoker.AsyncUnaryCall(ModelInferBytes, null, new CallOptions(Key(ShieldServerFactory.ByteFuzzKey)), bytes.ToArray());
            }
            catch (RpcException ex)
            {
                refused++;
                Assert.True(
                    ex.StatusCode is not (StatusCode.Internal or StatusCode.Unknown or StatusCode.DataLoss or StatusCode.Unimplemented),
                    $"seed {seed}, case {i}: {ex.StatusCode} '{ex.Status.Detail}'");
                Assert.False(string.IsNullOrWhiteSpace(ex.Status.Detail), $"seed {seed}, case {i}: {ex.StatusCode} without a message");
            }
        }

        Assert.True(refused > 50, "the mutations hardly ever broke the request: the fuzzer tests nothing");
        var answered = await invoker.AsyncUnaryCall(ModelInferBytes, null, new CallOptions(Key(ShieldServerFactory.AliceKey)), valid[0]);
        Assert.Single(Predictions(answered));
    }

    private CallInvoker Invoker() =>
        GrpcChannel.ForAddress(server.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = server.Server.CreateHandler() }).CreateCallInvoker();
}
