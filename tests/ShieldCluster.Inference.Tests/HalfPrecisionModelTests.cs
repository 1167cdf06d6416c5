using ShieldCluster.Testing;

namespace ShieldCluster.Inference.Tests;

/// <summary>fp16 models: the server keeps FP32 values and converts at the ONNX Runtime boundary.</summary>
public sealed class HalfPrecisionModelTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "shield-fp16-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Run_Float16Graph_NarrowsInputsAndWidensOutputs()
    {
        OnnxIdentityModel.Write(_root, "half", OnnxIdentityModel.Float16, [4], "TYPE_FP16", "TYPE_FP32");
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
        OnnxIdentityModel.Write(_root, "single", OnnxIdentityModel.Float, [4], "TYPE_FP32", "TYPE_FP32");
        using var repository = ModelRepositoryFixture.Open(_root);
        var model = Assert.IsType<Runtime.ModelVersion>(repository.Find("single", null));
        Assert.False(model.HalfPrecision);

        float[] input = [0.1f, 0.5f, 1f / 3, 0.999f];
        Assert.Equal(input, Assert.Single(model.Run(input, 1)));
    }

    [Fact]
    public async Task InferAsync_Float16GraphThroughTheBatcher_AnswersEachRequestWithItsRows()
    {
        OnnxIdentityModel.Write(_root, "half", OnnxIdentityModel.Float16, [4], "TYPE_FP16", "TYPE_FP32");
        var config = Path.Combine(_root, "half", "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"sha256\"", "\"dynamic_batching\":{\"max_queue_delay_microseconds\":20000},\"sha256\"", StringComparison.Ordinal));
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
    [InlineData(OnnxIdentityModel.Float16, "TYPE_FP16", "TYPE_FP16")]
    [InlineData(OnnxIdentityModel.Float16, "TYPE_INT64", "TYPE_FP32")]
    [InlineData(OnnxIdentityModel.Int64, "TYPE_FP32", "TYPE_FP32")]
    public void Load_UnservedTypes_RefusesTheModel(int elementType, string inputType, string outputType)
    {
        OnnxIdentityModel.Write(_root, "refused", elementType, [4], inputType, outputType);
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

public class BlockPoolerTests
{
    [Fact]
    public void Pooler_ImageNetSizedImage_PoolsFourByFourBlocksPerChannel()
    {
        var pooler = new ShieldCluster.Protection.Features.BlockPooler([3, 224, 224]);
        Assert.Equal(4, pooler.Block);
        Assert.Equal(3 * 56 * 56, pooler.Length);

        var item = new float[3 * 224 * 224];
        // Channel 1, block (row 2, column 5): values 0..15 averaging 7.5; every other value 1.
        Array.Fill(item, 1f);
        for (var dy = 0; dy < 4; dy++)
        {
            for (var dx = 0; dx < 4; dx++)
            {
                item[(224 * 224) + ((8 + dy) * 224) + 20 + dx] = (dy * 4) + dx;
            }
        }

        var pooled = new float[pooler.Length];
        pooler.Pool(item, pooled);
        Assert.Equal(7.5f, pooled[(56 * 56) + (2 * 56) + 5]);
        Assert.Equal(1f, pooled[(56 * 56) + (2 * 56) + 4]);
        Assert.Equal(1f, pooled[0]);
        Assert.All(pooled.Where((_, i) => i != (56 * 56) + (2 * 56) + 5), v => Assert.Equal(1f, v));
    }

    [Theory]
    [InlineData(1, 28, 28, 1, 784)]
    [InlineData(3, 299, 299, 5, 3 * 59 * 59)]
    [InlineData(3, 32, 32, 1, 3 * 32 * 32)]
    public void Pooler_PicksTheSmallestBlockThatFits(int channels, int height, int width, int block, int length)
    {
        var pooler = new ShieldCluster.Protection.Features.BlockPooler([channels, height, width]);
        Assert.Equal(block, pooler.Block);
        Assert.Equal(length, pooler.Length);
        Assert.True(pooler.Length <= ShieldCluster.Protection.Features.BlockPooler.MaxValues);
    }

    [Fact]
    public void Pooler_SmallItem_PassesThroughUnchanged()
    {
        var pooler = new ShieldCluster.Protection.Features.BlockPooler([1, 28, 28]);
        var item = Enumerable.Range(0, 784).Select(i => i / 784f).ToArray();
        var pooled = new float[pooler.Length];
        pooler.Pool(item, pooled);
        Assert.Equal(item, pooled);
    }
}
