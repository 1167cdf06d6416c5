using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using ShieldCluster.Inference.Repository;
using ShieldCluster.Server.Grpc.Protocol;
using ShieldCluster.Server.Grpc;
using ShieldCluster.Server.Http;
using ShieldCluster.Server.Serving;
using ShieldCluster.Testing;

namespace ShieldCluster.Server.Tests;

/// <summary>
/// A server whose repository holds an fp16 model of ImageNet-sized items (an ONNX Identity graph in
/// float16 over 3x224x224): FP16 on the wire, FP32 answers, protection on (the fingerprints of items
/// this large are taken on their pooled image).
/// </summary>
public sealed class HalfPrecisionServerFactory : ShieldServerFactory
{
    public string Repository { get; } = Path.Combine(Path.GetTempPath(), "shield-fp16-server-" + Guid.NewGuid().ToString("N"));

    public HalfPrecisionServerFactory() =>
        OnnxModels.WriteIdentity(Repository, "half-image", OnnxModels.Float16, [3, 224, 224], "TYPE_FP16", "TYPE_FP32");

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Shield:Inference:ModelRepository"] = Repository,
    };

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(Repository, recursive: true);
    }
}

public class HalfPrecisionTests(HalfPrecisionServerFactory server) : IClassFixture<HalfPrecisionServerFactory>
{
    private const int Values = 3 * 224 * 224;

    [Fact]
    public async Task BinaryFp16Request_IsAnsweredInFp32WithTheHalfPrecisionValues()
    {
        var client = server.ClientWithKey(ShieldServerFactory.FuzzKey);
        var metadata = JsonNode.Parse(await client.GetStringAsync("/v2/models/half-image"))!;
        Assert.Equal("FP16", (string?)metadata["inputs"]![0]!["datatype"]);
        Assert.Equal("FP32", (string?)metadata["outputs"]![0]!["datatype"]);

        var values = new Half[Values];
        var random = new Random(5);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (Half)random.NextSingle();
        }

        var response = await client.PostAsync("/v2/models/half-image/infer", Binary(values, values.Length * 2));
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(body));
        var headerLength = int.Parse(response.Headers.GetValues(BinaryTensors.Header).Single(), CultureInfo.InvariantCulture);
        var output = MemoryMarshal.Cast<byte, float>(body.AsSpan(headerLength)).ToArray();
        Assert.Equal(values.Select(v => (float)v), output);
    }

    [Theory]
    [InlineData(Values * 2 - 1, "not a multiple of 2 bytes (FP16)")]
    [InlineData(Values * 4, "has 301056 values")]
    public async Task BinaryFp16Request_WrongSize_Is400(int size, string message)
    {
        var client = server.ClientWithKey(ShieldServerFactory.FuzzKey);
        var response = await client.PostAsync("/v2/models/half-image/infer", Binary(new Half[size / 2 + 1], size));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fp32Request_ToTheFp16Model_Is400NamingFp16()
    {
        var client = server.ClientWithKey(ShieldServerFactory.FuzzKey);
        var content = BinaryHttpTests.Binary(
            $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,3,224,224],\"datatype\":\"FP32\",\"parameters\":{{\"binary_data_size\":{Values * 4}}}}}]}}",
            new byte[Values * 4]);
        var response = await client.PostAsync("/v2/models/half-image/infer", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("the model expects FP16", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void GrpcRawFp16_IsKeptAsItCame_AndFp16ContentsAreRefused()
    {
        Half[] values = [(Half)0.1f, (Half)0.5f, (Half)1f];
        var message = new ModelInferRequest { ModelName = "half-image" };
        var tensor = new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP16" };
        tensor.Shape.Add([1, 3]);
        message.Inputs.Add(tensor);
        message.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())));
        var request = GrpcTensors.ToRequest(message, out _);
        Assert.Equal(values, request.Inputs[0].Halves);
        Assert.Null(request.Inputs[0].Data);

        message.RawInputContents.Clear();
        message.RawInputContents.Add(ByteString.CopyFrom(new byte[5]));
        Assert.Contains("not a multiple of 2", Assert.Throws<ApiException>(() => GrpcTensors.ToRequest(message, out _)).Message, StringComparison.Ordinal);

        message.RawInputContents.Clear();
        tensor.Contents = new InferTensorContents { Fp32Contents = { 0.1f, 0.5f, 1f } };
        Assert.Contains("raw_input_contents", Assert.Throws<ApiException>(() => GrpcTensors.ToRequest(message, out _)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fp16Model_JsonFloats_HaveTheFeaturesOfTheSameImageInFp16()
    {
        // JSON carries an fp16 model's input as numbers, the binary encodings as FP16 bytes: the
        // model reads the same halves, so the history records the same digest, thumbnail and
        // fingerprint, even where the numbers are not exactly FP16 values.
        var features = server.Services.GetRequiredService<QueryFeatures>();
        var model = server.Services.GetRequiredService<ModelRepository>().Find("half-image", null)!;
        var halves = new Half[2 * Values];
        var random = new Random(9);
        for (var i = 0; i < halves.Length; i++)
        {
            halves[i] = (Half)random.NextSingle();
        }

        // Each number a little off its FP16 value, by less than half a step, so it rounds back to it.
        var json = halves.Select(h => (float)h + (MathF.BitIncrement((float)h) - (float)h)).ToArray();
        Assert.NotEqual(halves.Select(h => (float)h), json);

        var fromHalves = features.Extract(model, halves, 2);
        var fromJson = features.Extract(model, json, 2);
        Assert.Equal(fromHalves.Select(f => f.Digest), fromJson.Select(f => f.Digest));
        Assert.Equal(fromHalves.Select(f => f.Thumbnail), fromJson.Select(f => f.Thumbnail));
        Assert.Equal(fromHalves.Select(f => f.Fingerprint), fromJson.Select(f => f.Fingerprint));
        Assert.NotEqual(fromHalves[0].Digest, fromHalves[1].Digest);
    }

    private static ByteArrayContent Binary(Half[] values, int size) => BinaryHttpTests.Binary(
        $"{{\"inputs\":[{{\"name\":\"input\",\"shape\":[1,3,224,224],\"datatype\":\"FP16\",\"parameters\":{{\"binary_data_size\":{size}}}}}],\"outputs\":[{{\"name\":\"output\",\"parameters\":{{\"binary_data\":true}}}}]}}",
        MemoryMarshal.AsBytes(values.AsSpan())[..Math.Min(size, values.Length * 2)].ToArray());
}
