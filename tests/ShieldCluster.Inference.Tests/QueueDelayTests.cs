using ShieldCluster.Testing;

namespace ShieldCluster.Inference.Tests;

/// <summary>A model's <c>max_queue_delay_microseconds</c> as the batcher runs it: whole milliseconds, never past the maximum.</summary>
public sealed class QueueDelayTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "shield-delay-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(500, 0)]
    [InlineData(1_000, 1)]
    [InlineData(2_999, 2)]
    [InlineData(20_000, 20)]
    public void Load_QueueDelay_IsRoundedDownToWholeMilliseconds(int microseconds, int milliseconds)
    {
        OnnxModels.WriteIdentity(_root, "delay", OnnxModels.Float, [4], "TYPE_FP32", "TYPE_FP32", queueDelayMicroseconds: microseconds);
        using var repository = ModelRepositoryFixture.Open(_root);

        var model = Assert.IsType<Runtime.ModelVersion>(repository.Find("delay", null));

        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), model.Batcher!.Settings.MaxQueueDelay);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
