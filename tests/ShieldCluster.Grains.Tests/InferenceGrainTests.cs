using System.Numerics.Tensors;
using ShieldCluster.Contracts;
using ShieldCluster.Testing;

namespace ShieldCluster.Grains.Tests;

[Collection(ClusterCollection.Name)]
public class InferenceGrainTests(ClusterFixture fixture)
{
    [Fact]
    public async Task InferAsync_RealTestImages_PredictsTheirLabelsInOneCall()
    {
        var (images, labels) = FashionMnist.TestSet;
        const int n = 32;
        var request = new InferenceRequest("fashion-mnist", "1", images.AsSpan(0, n * FashionMnist.Pixels).ToArray(), n);
        var result = await fixture.Grains.GetGrain<IInferenceGrain>("fashion-mnist").InferAsync(request);

        Assert.Equal("1", result.Version);
        var scores = Assert.Single(result.Outputs);
        Assert.Equal(n * 10, scores.Length);
        var correct = Enumerable.Range(0, n).Count(i => TensorPrimitives.IndexOfMax(scores.AsSpan(i * 10, 10)) == labels[i]);
        Assert.True(correct >= 28, $"only {correct} of {n} test images classified correctly");
    }

    [Fact]
    public async Task InferAsync_UnknownVersion_Throws()
    {
        var request = new InferenceRequest("fashion-mnist", "7", new float[784], 1);
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Grains.GetGrain<IInferenceGrain>("fashion-mnist").InferAsync(request));
    }
}
