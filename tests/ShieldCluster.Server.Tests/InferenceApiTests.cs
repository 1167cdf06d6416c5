using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ShieldCluster.Testing;
using static ShieldCluster.Server.Tests.InferenceRequests;

namespace ShieldCluster.Server.Tests;

public class InferenceApiTests(ShieldServerFactory server) : IClassFixture<ShieldServerFactory>
{
    [Fact]
    public async Task Health_NeedsNoKey()
    {
        var client = server.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/health/ready")).StatusCode);
        var metadata = await client.GetFromJsonAsync<JsonObject>("/v2");
        Assert.Equal("shieldcluster", (string?)metadata!["name"]);
    }

    [Fact]
    public async Task Infer_RealTestImages_PredictsTheirLabels()
    {
        var response = await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), Json(0, 16));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var predictions = await PredictionsAsync(response);
        var labels = FashionMnist.TestSet.Labels;
        var correct = predictions.Select((p, i) => p == labels[i] ? 1 : 0).Sum();
        Assert.True(correct >= 14, $"{correct} of 16 real test images classified correctly");
    }

    [Fact]
    public async Task Infer_NestedAndFlatData_GiveTheSameAnswer()
    {
        var client = server.ClientWithKey(ShieldServerFactory.AliceKey);
        var flat = await (await PostAsync(client, Json(20, 3))).Content.ReadFromJsonAsync<JsonObject>();
        var nested = await (await PostAsync(client, Json(20, 3, nested: true))).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(flat!["outputs"]!.ToJsonString(), nested!["outputs"]!.ToJsonString());
    }

    [Fact]
    public async Task Infer_Response_HasProtocolFieldsRequestIdAndRateLimitHeaders()
    {
        var client = server.ClientWithKey(ShieldServerFactory.AliceKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, InferPath) { Content = Content(Json(0, 2, id: "req-7")) };
        request.Headers.Add("X-Request-Id", "trace-abc");
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal("fashion-mnist", (string?)body!["model_name"]);
        Assert.Equal("1", (string?)body["model_version"]);
        Assert.Equal("req-7", (string?)body["id"]);
        Assert.Equal([2, 10], body["outputs"]![0]!["shape"]!.AsArray().Select(d => (int)d!));
        Assert.Equal("trace-abc", response.Headers.GetValues("X-Request-Id").Single());
        Assert.Equal("40", response.Headers.GetValues("RateLimit-Limit").Single());
        Assert.True(int.Parse(response.Headers.GetValues("RateLimit-Remaining").Single(), System.Globalization.CultureInfo.InvariantCulture) < 40);
        Assert.True(response.Headers.Contains("RateLimit-Reset"));
    }

    [Fact]
    public async Task Infer_NoRequestId_GetsAGeneratedOne()
    {
        var response = await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), Json(0, 1));
        Assert.Equal(32, response.Headers.GetValues("X-Request-Id").Single().Length);
    }

    [Fact]
    public async Task Infer_ExplicitVersion_Serves_UnknownVersionIs404()
    {
        var client = server.ClientWithKey(ShieldServerFactory.AliceKey);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, Json(0, 1), "/v2/models/fashion-mnist/versions/1/infer")).StatusCode);
        var missing = await PostAsync(client, Json(0, 1), "/v2/models/fashion-mnist/versions/9/infer");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("version '9'", await ErrorAsync(missing), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_SelectedOutputs_UnknownOutputIs400()
    {
        var client = server.ClientWithKey(ShieldServerFactory.AliceKey);
        var json = Json(0, 1).TrimEnd('}') + ",\"outputs\":[{\"name\":\"probabilities\",\"parameters\":{\"binary_data\":false}}],\"parameters\":{\"anything\":1}}";
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(client, json)).StatusCode);
        var unknown = Json(0, 1).TrimEnd('}') + ",\"outputs\":[{\"name\":\"logits\"}]}";
        var response = await PostAsync(client, unknown);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("unknown output 'logits'", await ErrorAsync(response));
    }

    [Fact]
    public async Task Metadata_DescribesTheModel()
    {
        var metadata = await server.ClientWithKey(ShieldServerFactory.AliceKey).GetFromJsonAsync<JsonObject>("/v2/models/fashion-mnist");
        Assert.Equal("fashion-mnist", (string?)metadata!["name"]);
        Assert.Equal("onnxruntime_onnx", (string?)metadata["platform"]);
        var input = metadata["inputs"]![0]!;
        Assert.Equal("input", (string?)input["name"]);
        Assert.Equal("FP32", (string?)input["datatype"]);
        Assert.Equal([-1, 1, 28, 28], input["shape"]!.AsArray().Select(d => (int)d!));
        Assert.Equal([-1, 10], metadata["outputs"]![0]!["shape"]!.AsArray().Select(d => (int)d!));
        Assert.Equal(HttpStatusCode.OK, (await server.ClientWithKey(ShieldServerFactory.AliceKey).GetAsync("/v2/models/fashion-mnist/ready")).StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-key")]
    public async Task ModelRoutes_WithoutAValidKey_Are401WithChallenge(string? key)
    {
        var client = server.ClientWithKey(key);
        foreach (var response in new[]
        {
            await PostAsync(client, Json(0, 1)),
            await client.GetAsync("/v2/models/fashion-mnist"),
            await client.GetAsync("/v2/models/fashion-mnist/ready"),
            await client.GetAsync("/v2/models/no-such-model"),
        })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.NotEmpty(await ErrorAsync(response));
        }
    }

    [Fact]
    public async Task Infer_UnknownModel_Is404()
    {
        var response = await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), Json(0, 1), "/v2/models/resnet/infer");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("model 'resnet' not found", await ErrorAsync(response));
    }

    [Fact]
    public async Task Infer_ModelOutsideTheClientsAllowList_Is404AsIfAbsent()
    {
        var client = server.ClientWithKey(ShieldServerFactory.BobKey);
        var response = await PostAsync(client, Json(0, 1));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("model 'fashion-mnist' not found", await ErrorAsync(response));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v2/models/fashion-mnist")).StatusCode);
    }

    [Fact]
    public async Task Infer_BodyOverTheLimit_Is413()
    {
        var huge = new string(' ', (int)ShieldServerFactory.BodyLimit + 10) + Json(0, 1);
        var response = await PostAsync(server.ClientWithKey(ShieldServerFactory.AliceKey), huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("limit", await ErrorAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Infer_ChunkedBodyOverTheLimit_Is413()
    {
        var huge = new string(' ', (int)ShieldServerFactory.BodyLimit + 10) + Json(0, 1);
        var content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(huge)));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, InferPath) { Content = content };
        request.Headers.TransferEncodingChunked = true;
        var response = await server.ClientWithKey(ShieldServerFactory.AliceKey).SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task UnknownRoute_And_WrongMethod_AnswerJsonErrors()
    {
        var client = server.CreateClient();
        var missing = await client.GetAsync("/v3/anything");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.NotEmpty(await ErrorAsync(missing));
        var wrongMethod = await client.DeleteAsync("/v2/health/live");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.NotEmpty(await ErrorAsync(wrongMethod));
    }
}
