using System.Globalization;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using ShieldCluster.Server.Grpc.Protocol;
using ShieldCluster.Testing;
using static ShieldCluster.Server.Tests.GrpcRequests;
using static ShieldCluster.Server.Tests.GrpcWire;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// ModelInfer over a real socket (the server's own process, cleartext HTTP/2): a message larger than
/// Kestrel's 64 KiB buffers arrives in several segments, and its raw tensor is read across them.
/// </summary>
public partial class GrpcModelInferProcessTests
{
    [Fact]
    public async Task LargeRawBatch_OverHttp2_SameAnswerAsContents_AndMalformedMessagesAreInvalidArgument()
    {
        var grpcPort = ServerProcess.FreePort();
        await using var server = ServerProcess.Start(new Dictionary<string, string>
        {
            ["Shield__Grpc__Port"] = grpcPort.ToString(CultureInfo.InvariantCulture),
            // No detectors: the same images are sent twice on purpose.
            ["Shield__Protection__Enabled"] = "false",
        });
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        await server.WaitUntilReadyAsync(http, TimeSpan.FromSeconds(60));
        var demoKey = DemoKey().Match(server.Output);
        Assert.True(demoKey.Success, $"no demo key printed:\n{server.Output}");
        var key = Key(demoKey.Value);

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        // 64 images: 200 KB of raw tensor, more than three of Kestrel's receive blocks.
        var images = Images(100, 64);
        var raw = await grpc.ModelInferAsync(Infer(images, raw: true), key);
        var contents = await grpc.ModelInferAsync(Infer(images, raw: false), key);

        Assert.Single(raw.RawOutputContents);
        Assert.Equal(Scores(contents), Scores(raw));
        var labels = FashionMnist.TestSet.Labels.AsSpan(100, 64).ToArray();
        Assert.True(Predictions(raw).Where((p, i) => p == labels[i]).Count() >= 48, "the model misclassified more than a quarter of 64 test images");

        var invoker = channel.CreateCallInvoker();
        var written = Concat(Raw(images), Unknown(), Input("input", "FP32", 64, 1, 28, 28), String(ModelInferRequest.ModelNameFieldNumber, Model));
        Assert.Equal(Scores(raw), Scores(await invoker.AsyncUnaryCall(ModelInferBytes, null, new CallOptions(key), written)));

        var error = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(ModelInferBytes, null, new CallOptions(key), written[..^1]).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("malformed ModelInferRequest: ", error.Status.Detail, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"shk_[A-Za-z0-9_-]{43}")]
    private static partial Regex DemoKey();
}
