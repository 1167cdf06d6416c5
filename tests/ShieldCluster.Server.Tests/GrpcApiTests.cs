using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using ShieldCluster.Server.Grpc.Protocol;
using ShieldCluster.Testing;
using static ShieldCluster.Server.Tests.GrpcRequests;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// The Open Inference Protocol's gRPC service against the real server and model: every RPC, the same
/// answers as HTTP/JSON, the same identity, admission and detection.
/// </summary>
public class GrpcApiTests(ShieldServerFactory server) : IClassFixture<ShieldServerFactory>
{
    private GRPCInferenceService.GRPCInferenceServiceClient Grpc => Client(server);

    private HttpClient Security => server.ClientWithKey(ShieldServerFactory.SecurityAdminKey);

    [Fact]
    public async Task ServerLiveReadyAndMetadata_NeedNoKey()
    {
        Assert.True((await Grpc.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await Grpc.ServerReadyAsync(new ServerReadyRequest())).Ready);
        var metadata = await Grpc.ServerMetadataAsync(new ServerMetadataRequest());
        var http = await server.CreateClient().GetFromJsonAsync<JsonObject>("/v2");
        Assert.Equal((string?)http!["name"], metadata.Name);
        Assert.Equal((string?)http["version"], metadata.Version);
        Assert.Equal(["binary_tensor_data"], metadata.Extensions);
        Assert.Equal(["binary_tensor_data"], http["extensions"]!.AsArray().Select(e => (string)e!));
    }

    [Fact]
    public async Task ModelReadyAndMetadata_WithKey_DescribeTheModelAsHttpDoes()
    {
        var key = Key(ShieldServerFactory.AliceKey);
        Assert.True((await Grpc.ModelReadyAsync(new ModelReadyRequest { Name = Model }, key)).Ready);
        Assert.True((await Grpc.ModelReadyAsync(new ModelReadyRequest { Name = Model, Version = "1" }, key)).Ready);

        var metadata = await Grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = Model }, key);
        var http = await server.ClientWithKey(ShieldServerFactory.AliceKey).GetFromJsonAsync<JsonObject>($"/v2/models/{Model}");
        Assert.Equal(Model, metadata.Name);
        Assert.Equal("onnxruntime_onnx", metadata.Platform);
        Assert.Equal(http!["versions"]!.AsArray().Select(v => (string)v!), metadata.Versions);
        var input = Assert.Single(metadata.Inputs);
        Assert.Equal(("input", "FP32"), (input.Name, input.Datatype));
        Assert.Equal([-1L, 1, 28, 28], input.Shape);
        var output = Assert.Single(metadata.Outputs);
        Assert.Equal(("probabilities", "FP32"), (output.Name, output.Datatype));
        Assert.Equal([-1L, 10], output.Shape);
    }

    [Theory]
    [InlineData("no-such-model", "", ShieldServerFactory.AliceKey)]
    [InlineData(Model, "99", ShieldServerFactory.AliceKey)]
    [InlineData(Model, "", ShieldServerFactory.BobKey)]
    public async Task ModelRpcs_UnknownOrNotAllowedModel_AreNotFound(string model, string version, string key)
    {
        var ready = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelReadyAsync(new ModelReadyRequest { Name = model, Version = version }, Key(key)).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, ready.StatusCode);
        var metadata = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = model, Version = version }, Key(key)).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, metadata.StatusCode);
        var request = Infer(0, 1);
        request.ModelName = model;
        request.ModelVersion = version;
        var infer = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(request, Key(key)).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, infer.StatusCode);
    }

    [Theory]
    [InlineData(false, 20)]
    [InlineData(true, 30)]
    public async Task ModelInfer_RealImages_SameProbabilitiesAsHttpJson(bool raw, int first)
    {
        // Each client sees each image once: nothing here looks like probing to the detectors.
        var response = await Grpc.ModelInferAsync(Infer(Images(first, 8), raw, id: "grpc-8"), Key(ShieldServerFactory.FuzzKey));
        Assert.Equal(Model, response.ModelName);
        Assert.Equal("1", response.ModelVersion);
        Assert.Equal("grpc-8", response.Id);
        Assert.Equal([8L, 10], response.Outputs[0].Shape);
        Assert.Equal(raw ? 1 : 0, response.RawOutputContents.Count);
        Assert.Equal(raw, response.Outputs[0].Contents is null);

        var http = await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), Json(first, 8));
        Assert.Equal(HttpStatusCode.OK, http.StatusCode);
        var json = (await http.Content.ReadFromJsonAsync<JsonObject>())!["outputs"]![0]!["data"]!.AsArray().Select(v => (float)v!).ToArray();
        Assert.Equal(json, Scores(response));
        var labels = FashionMnist.TestSet.Labels.AsSpan(first, 8).ToArray();
        Assert.True(Predictions(response).Where((p, i) => p == labels[i]).Count() >= 6, "the model misclassified most of eight test images");
    }

    [Fact]
    public async Task ModelInfer_CarriesRateLimitTrailers_AndSharesTheHttpBucket()
    {
        // Plan 'tight': a burst of 5 requests, whichever transport sends them.
        var http = server.ClientWithKey(ShieldServerFactory.TightKey);
        var key = Key(ShieldServerFactory.TightKey);
        for (var i = 0; i < 5; i++)
        {
            if (i % 2 == 0)
            {
                Assert.Equal(HttpStatusCode.OK, (await PostAsync(http, Json(i, 1))).StatusCode);
                continue;
            }

            var call = Grpc.ModelInferAsync(Infer(i, 1), key);
            await call;
            Assert.Equal((4 - i).ToString(CultureInfo.InvariantCulture), call.GetTrailers().GetValue("ratelimit-remaining"));
            Assert.Equal("5", call.GetTrailers().GetValue("ratelimit-limit"));
        }

        var refused = Grpc.ModelInferAsync(Infer(5, 1), key);
        var error = await Assert.ThrowsAsync<RpcException>(() => refused.ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal("rate limit exceeded", error.Status.Detail);
        Assert.Equal("1", error.Trailers.GetValue("retry-after"));
        Assert.Equal("0", error.Trailers.GetValue("ratelimit-remaining"));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PostAsync(http, Json(6, 1))).StatusCode);
    }

    [Fact]
    public async Task ModelInfer_DailyQuotaSpent_IsResourceExhaustedWithRetryAfter()
    {
        var key = Key(ShieldServerFactory.DailyKey);
        await Grpc.ModelInferAsync(Infer(0, 3), key);
        var error = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(Infer(3, 1), key).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal("daily quota exceeded", error.Status.Detail);
        Assert.True(int.Parse(error.Trailers.GetValue("retry-after")!, CultureInfo.InvariantCulture) > 0);
    }

    [Theory]
    [InlineData(null, "missing API key")]
    [InlineData("not-a-key", "unknown API key")]
    public async Task ModelRpcs_WithoutAValidKey_AreUnauthenticated(string? key, string message)
    {
        var infer = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(Infer(0, 1), Key(key)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, infer.StatusCode);
        Assert.Contains(message, infer.Status.Detail, StringComparison.Ordinal);
        var ready = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelReadyAsync(new ModelReadyRequest { Name = Model }, Key(key)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, ready.StatusCode);
        var metadata = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelMetadataAsync(new ModelMetadataRequest { Name = Model }, Key(key)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, metadata.StatusCode);
    }

    [Fact]
    public async Task ModelInfer_BlockedClient_IsPermissionDenied_UntilUnblocked()
    {
        var created = await (await Security.PostAsJsonAsync("/admin/clients", new { clientId = "grpc-blocked", plan = "standard" })).Content.ReadFromJsonAsync<JsonObject>();
        var key = Key((string)created!["apiKey"]!);
        await Grpc.ModelInferAsync(Infer(0, 1), key);

        Assert.Equal(HttpStatusCode.OK, (await Security.PostAsJsonAsync("/admin/clients/grpc-blocked/block", new { reason = "test" })).StatusCode);
        var error = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(Infer(1, 1), key).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Equal("client is blocked", error.Status.Detail);

        Assert.Equal(HttpStatusCode.OK, (await Security.PostAsJsonAsync("/admin/clients/grpc-blocked/unblock", new { reason = "test over" })).StatusCode);
        await Grpc.ModelInferAsync(Infer(2, 1), key);
    }

    [Fact]
    public async Task RandomSearchAttackOverGrpc_IsBlockedWithinAFewQueries_AndTheReportShowsWhy()
    {
        var key = Key(ShieldServerFactory.MalloryKey);
        var random = new Random(7);
        var image = FashionMnist.TestImage(42);
        var refusedAt = -1;
        for (var i = 0; i < 40 && refusedAt < 0; i++)
        {
            image = ImageRequests.Perturb(image, random, 0.01f);
            try
            {
                await Grpc.ModelInferAsync(Infer(image, raw: i % 2 == 0), key);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.PermissionDenied)
            {
                refusedAt = i + 1;
                Assert.Equal("client is blocked", ex.Status.Detail);
            }
        }

        Assert.InRange(refusedAt, 1, 25);
        var report = await Security.GetFromJsonAsync<JsonObject>("/admin/clients/mallory");
        Assert.Equal("blocked", (string?)report!["enforcement"]!["state"]);
        var blacklight = report["detectors"]!.AsArray().Single(d => (string?)d!["name"] == "blacklight")!;
        Assert.Equal(1.0, (double)blacklight["score"]!);
        Assert.Contains("matched an earlier one", (string?)blacklight["evidence"], StringComparison.Ordinal);

        // The block holds on HTTP too: one client, one grain, whatever the transport.
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(server.ClientWithKey(ShieldServerFactory.MalloryKey), Json(100, 1))).StatusCode);
    }

    public static TheoryData<string, string> BadTensors => new()
    {
        { "no inputs", "no 'inputs'" },
        { "unknown input", "unknown input 'pixels'" },
        { "two inputs", "appears more than once" },
        { "no name", "has no 'name'" },
        { "no datatype", "has no 'datatype'" },
        { "wrong datatype", "the model expects FP32" },
        { "wrong shape", "the model expects [-1,1,28,28]" },
        { "negative dimension", "non-negative" },
        { "too many values", "has 785 values" },
        { "batch too large", "batch size 65 exceeds the model's max_batch_size 64" },
        { "out of range", "outside the model's range" },
        { "NaN", "NaN or infinity" },
        { "infinity raw", "NaN or infinity" },
        { "no contents", "has no data" },
        { "contents and raw", "both 'contents' and raw_input_contents" },
        { "raw not a multiple of 4", "not a multiple of 4" },
        { "raw count mismatch", "needs one per input" },
        { "raw too short", "has 783 values" },
        { "unknown output", "unknown output 'logits'" },
    };

    [Theory]
    [MemberData(nameof(BadTensors))]
    public async Task ModelInfer_BadTensor_IsInvalidArgumentWithAMessage(string problem, string message)
    {
        var request = Bad(problem);
        var error = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(request, Key(ShieldServerFactory.AliceKey)).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelInfer_MessageOverTheBodyLimit_IsResourceExhausted_AndTheServerServesOn()
    {
        var values = new float[((int)ShieldServerFactory.BodyLimit / 4) + FashionMnist.Pixels];
        var error = await Assert.ThrowsAsync<RpcException>(() => Grpc.ModelInferAsync(Infer(values, raw: true), Key(ShieldServerFactory.AliceKey)).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Single(Predictions(await Grpc.ModelInferAsync(Infer(0, 1), Key(ShieldServerFactory.AliceKey))));
    }

    [Theory]
    [InlineData(400, StatusCode.InvalidArgument)]
    [InlineData(401, StatusCode.Unauthenticated)]
    [InlineData(403, StatusCode.PermissionDenied)]
    [InlineData(404, StatusCode.NotFound)]
    [InlineData(413, StatusCode.ResourceExhausted)]
    [InlineData(429, StatusCode.ResourceExhausted)]
    [InlineData(503, StatusCode.Unavailable)]
    [InlineData(500, StatusCode.Internal)]
    public void HttpStatuses_MapToGrpcCodes(int http, StatusCode expected) =>
        Assert.Equal(expected, ShieldCluster.Server.Grpc.GrpcErrorInterceptor.ToStatusCode(http));

    private static ModelInferRequest Bad(string problem)
    {
        var image = FashionMnist.TestImage(0);
        var request = Infer(image, raw: false);
        var input = request.Inputs[0];
        switch (problem)
        {
            case "no inputs":
                request.Inputs.Clear();
                break;
            case "unknown input":
                input.Name = "pixels";
                break;
            case "two inputs":
                request.Inputs.Add(input.Clone());
                break;
            case "no name":
                input.Name = "";
                break;
            case "no datatype":
                input.Datatype = "";
                break;
            case "wrong datatype":
                input.Datatype = "FP64";
                break;
            case "wrong shape":
                input.Shape.Clear();
                input.Shape.Add([1, 784]);
                break;
            case "negative dimension":
                input.Shape[3] = -28;
                break;
            case "too many values":
                input.Contents.Fp32Contents.Add(0.5f);
                break;
            case "batch too large":
                return Infer(new float[65 * FashionMnist.Pixels], raw: true);
            case "out of range":
                input.Contents.Fp32Contents[10] = 2f;
                break;
            case "NaN":
                input.Contents.Fp32Contents[10] = float.NaN;
                break;
            case "infinity raw":
                image[5] = float.PositiveInfinity;
                return Infer(image, raw: true);
            case "no contents":
                input.Contents = null;
                break;
            case "contents and raw":
                request.RawInputContents.Add(ByteString.CopyFrom(RawBytes(image)));
                break;
            case "raw not a multiple of 4":
                request = Infer(image, raw: true);
                request.RawInputContents[0] = ByteString.CopyFrom(RawBytes(image).AsSpan(0, 3135));
                break;
            case "raw count mismatch":
                request = Infer(image, raw: true);
                request.RawInputContents.Add(ByteString.CopyFrom(RawBytes(image)));
                break;
            case "raw too short":
                request = Infer(image, raw: true);
                request.RawInputContents[0] = ByteString.CopyFrom(RawBytes(image).AsSpan(0, 783 * 4));
                break;
            case "unknown output":
                request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "logits" });
                break;
            default:
                throw new ArgumentException(problem, nameof(problem));
        }

        return request;
    }
}
