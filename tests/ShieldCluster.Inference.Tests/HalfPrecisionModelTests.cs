using ShieldCluster.Inference.Repository;
using ShieldCluster.Testing;

namespace ShieldCluster.Inference.Tests;

/// <summary>fp16 models: the server keeps FP32 values and converts at the ONNX Runtime boundary.</summary>
public sealed class HalfPrecisionModelTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "shield-fp16-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Run_Float16Graph_NarrowsInputsAndWidensOutputs()
    {
        OnnxModels.WriteIdentity(_root, "half", OnnxModels.Float16, [4], "TYPE_FP16", "TYPE_FP32");
        using var repository = ModelRepositoryFixture.Open(_root);
        var model = Assert.IsType<Runtime.ModelVersion>(repository.Find("half", null));
        Assert.True(model.HalfPrecision);
        Assert.Equal("FP16", model.Input.Datatype);

        float[] input = [0.1f, 0.5f, 1f / 3, 0.999f, 0f, 1f, 0.25f, 0.7f];
        var output = Assert.Single(model.Run(input, 2));

        // Each value comes back as the nearest float16, widened: not the FP32 value sent.
        Assert.Equal(input.Select(v => (float)(Half)v), output);
        Assert.NotEqual(input[0], output[0]);
    }

    [Fact]
    public void Run_FloatGraph_IsNotHalfPrecisionAndKeepsValuesExact()
    {
        OnnxModels.WriteIdentity(_root, "single", OnnxModels.Float, [4], "TYPE_FP32", "TYPE_FP32");
        using var repository = ModelRepositoryFixture.Open(_root);
        var model = Assert.IsType<Runtime.ModelVersion>(repository.Find("single", null));
        Assert.False(model.HalfPrecision);

        float[] input = [0.1f, 0.5f, 1f / 3, 0.999f];
        Assert.Equal(input, Assert.Single(model.Run(input, 1)));
    }

    [Fact]
    public async Task InferAsync_Float16GraphThroughTheBatcher_AnswersEachRequestWithItsRows()
    {
        OnnxModels.WriteIdentity(_root, "half", OnnxModels.Float16, [4], "TYPE_FP16", "TYPE_FP32", queueDelayMicroseconds: 20_000);
        using var repository = ModelRepositoryFixture.Open(_root);
        var model = Assert.IsType<Runtime.ModelVersion>(repository.Find("half", null));
        Assert.NotNull(model.Batcher);

        var runs = Enumerable.Range(0, 6).Select(i => model.InferAsync(Enumerable.Range(0, 4).Select(j => (i * 4 + j) / 32f).ToArray(), 1, squeeze: false)).ToArray();
        var answers = await Task.WhenAll(runs);
        for (var i = 0; i < answers.Length; i++)
        {
            Assert.Equal(Enumerable.Range(0, 4).Select(j => (i * 4 + j) / 32f), answers[i].Outputs[0]);
        }
    }

    [Theory]
    [InlineData(OnnxModels.Float16, "TYPE_FP16", "TYPE_FP16")]
    [InlineData(OnnxModels.Float16, "TYPE_INT64", "TYPE_FP32")]
    [InlineData(OnnxModels.Int64, "TYPE_FP32", "TYPE_FP32")]
    public void Load_UnservedTypes_RefusesTheModel(int elementType, string inputType, string outputType)
    {
        OnnxModels.WriteIdentity(_root, "refused", elementType, [4], inputType, outputType);
        using var repository = ModelRepositoryFixture.Open(_root);
        Assert.Null(repository.Find("refused", null));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}

public sealed class BatchPaddingTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "shield-pad-" + Guid.NewGuid().ToString("N"));

    private ModelRepository Open(BatchPadding padding)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new InferenceOptions { ModelRepository = _root, PadBatches = padding });
        return new ModelRepository(options, new Runtime.ExecutionProviderSelector(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<Runtime.ExecutionProviderSelector>.Instance),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ModelRepository>.Instance);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    public void Run_Padded_AnswersOnlyTheRowsSent(int batchSize)
    {
        OnnxModels.WriteIdentity(_root, "pad", OnnxModels.Float16, [4], "TYPE_FP16", "TYPE_FP32");
        using var repository = Open(BatchPadding.Always);
        var model = Assert.IsType<Runtime.ModelVersion>(repository.Find("pad", null));
        Assert.Equal([1, 2, 4, 8], model.BatchSizes);

        var input = Enumerable.Range(0, batchSize * 4).Select(i => (i + 1) / 64f).ToArray();
        Assert.Equal(input, Assert.Single(model.Run(input, batchSize)));
    }

    /// <summary>
    /// Requests of every size meet in the batcher and are written once, unjoined, into the padded
    /// (and, for an fp16 graph, converted) input: each gets exactly its own rows back.
    /// </summary>
    [Theory]
    [InlineData(OnnxModels.Float, "TYPE_FP32")]
    [InlineData(OnnxModels.Float16, "TYPE_FP16")]
    public async Task Batched_Padded_EachRequestGetsItsOwnRows(int elementType, string inputType)
    {
        OnnxModels.WriteEntry(_root, "batched", OnnxModels.Identity(elementType, [4]), new System.Text.Json.Nodes.JsonObject
        {
            ["max_batch_size"] = 8,
            ["input"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["name"] = "input", ["data_type"] = inputType, ["dims"] = new System.Text.Json.Nodes.JsonArray(4), ["range"] = new System.Text.Json.Nodes.JsonArray(0.0, 1.0) }),
            ["output"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["name"] = "output", ["data_type"] = "TYPE_FP32", ["dims"] = new System.Text.Json.Nodes.JsonArray(4) }),
            ["dynamic_batching"] = new System.Text.Json.Nodes.JsonObject { ["max_queue_delay_microseconds"] = 3000 },
        });
        using var repository = Open(BatchPadding.Always);
        var model = Assert.IsType<Runtime.ModelVersion>(repository.Find("batched", null));
        Assert.NotNull(model.Batcher);

        // Values on a 1/64 grid are exact in half precision too.
        var requests = Enumerable.Range(0, 60).Select(r =>
        {
            var items = 1 + (r % 8);
            return Enumerable.Range(0, items * 4).Select(i => ((r * 7) + i) % 64 / 64f).ToArray();
        }).ToList();
        var answers = await Task.WhenAll(requests.Select(input => model.InferAsync(input, input.Length / 4, squeeze: false)));
        for (var r = 0; r < requests.Count; r++)
        {
            Assert.Equal(requests[r], Assert.Single(answers[r].Outputs));
        }
    }

    [Fact]
    public void Auto_OnTheCpu_DoesNotPad()
    {
        OnnxModels.WriteIdentity(_root, "pad", OnnxModels.Float, [4], "TYPE_FP32", "TYPE_FP32");
        using var repository = Open(BatchPadding.Auto);
        Assert.Empty(Assert.IsType<Runtime.ModelVersion>(repository.Find("pad", null)).BatchSizes);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
