using ShieldCluster.Protection.Features;

namespace ShieldCluster.Protection.Tests.Features;

public class FeatureDistanceTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(784)]
    [InlineData(1024)]
    [InlineData(70_000)]
    public void SquaredL2_MatchesScalarDefinition(int length)
    {
        var random = new Random(length);
        var a = new byte[length];
        var b = new byte[length];
        random.NextBytes(a);
        random.NextBytes(b);
        a[0] = 255;
        b[0] = 0;
        long expected = 0;
        for (var i = 0; i < length; i++)
        {
            expected += (a[i] - b[i]) * (a[i] - b[i]);
        }

        Assert.Equal(expected, FeatureDistance.SquaredL2(a, b));
        Assert.Equal(expected, FeatureDistance.SquaredL2(b, a));
        Assert.Equal(0, FeatureDistance.SquaredL2(a, a));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(784)]
    [InlineData(1024)]
    [InlineData(70_000)]
    public void Dot_MatchesScalarDefinition(int length)
    {
        var random = new Random(length + 1);
        var a = new byte[length];
        var b = new byte[length];
        random.NextBytes(a);
        random.NextBytes(b);
        a[0] = 255;
        b[0] = 255;
        long expected = 0;
        long squares = 0;
        for (var i = 0; i < length; i++)
        {
            expected += a[i] * b[i];
            squares += a[i] * a[i];
        }

        Assert.Equal(expected, FeatureDistance.Dot(a, b));
        Assert.Equal(expected, FeatureDistance.Dot(b, a));
        Assert.Equal(squares, FeatureDistance.Dot(a, a));
        var full = Enumerable.Repeat((byte)255, length).ToArray();
        Assert.Equal(255L * 255 * length, FeatureDistance.Dot(full, full));
    }

    [Fact]
    public void SquaredL2_DifferentLengths_Throws()
    {
        Assert.Throws<ArgumentException>(() => FeatureDistance.SquaredL2(new byte[3], new byte[4]));
    }
}
