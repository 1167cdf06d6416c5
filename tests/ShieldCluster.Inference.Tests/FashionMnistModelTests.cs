using System.Numerics.Tensors;
using ShieldCluster.Testing;

namespace ShieldCluster.Inference.Tests;

public class FashionMnistModelTests(ModelRepositoryFixture fixture) : IClassFixture<ModelRepositoryFixture>
{
    [Fact]
    public void Run_AllTenThousandTestImages_AccuracyAtLeast90Percent()
    {
        var model = fixture.Repository.Find("fashion-mnist", null)!;
        var (images, labels) = FashionMnist.TestSet;
        var correct = 0;
        const int batch = 64;
        for (var start = 0; start < labels.Length; start += batch)
        {
            var n = Math.Min(batch, labels.Length - start);
            var input = images.AsMemory(start * FashionMnist.Pixels, n * FashionMnist.Pixels);
            var scores = model.Run(input, n)[0];
            for (var i = 0; i < n; i++)
            {
                correct += TensorPrimitives.IndexOfMax(scores.AsSpan(i * 10, 10)) == labels[start + i] ? 1 : 0;
            }
        }

        var accuracy = correct / (double)labels.Length;
        Assert.True(accuracy >= 0.90, $"test accuracy {accuracy:P2} is below 90%");
    }

    [Fact]
    public void Run_Batch_EqualsItemsRunOneByOne()
    {
        var model = fixture.Repository.Find("fashion-mnist", null)!;
        var (images, _) = FashionMnist.TestSet;
        var batch = model.Run(images.AsMemory(0, 5 * FashionMnist.Pixels), 5)[0];
        for (var i = 0; i < 5; i++)
        {
            var single = model.Run(images.AsMemory(i * FashionMnist.Pixels, FashionMnist.Pixels), 1)[0];
            for (var c = 0; c < 10; c++)
            {
                Assert.Equal(single[c], batch[(i * 10) + c], 5);
            }
        }
    }

    [Fact]
    public void Run_Output_IsASoftmaxPerItem()
    {
        var model = fixture.Repository.Find("fashion-mnist", null)!;
        var scores = model.Run(FashionMnist.TestSet.Images.AsMemory(0, 3 * FashionMnist.Pixels), 3)[0];
        Assert.Equal(30, scores.Length);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(1.0, TensorPrimitives.Sum<float>(scores.AsSpan(i * 10, 10)), 4);
            Assert.All(scores.AsSpan(i * 10, 10).ToArray(), p => Assert.InRange(p, 0f, 1f));
        }
    }

    [Fact]
    public void Run_WrongValueCount_Throws()
    {
        var model = fixture.Repository.Find("fashion-mnist", null)!;
        Assert.Throws<ArgumentException>(() => model.Run(new float[783], 1));
    }
}
