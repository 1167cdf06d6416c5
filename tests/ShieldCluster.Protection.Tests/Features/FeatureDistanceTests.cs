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

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(784)]
    [InlineData(1_000)]
    public void RunSums_AreTheSumsOfEachRun_AndTheirBoundIsAtMostSumRunTimesTheSquaredDistance(int length)
    {
        // Every run, the last one partial where the length is no multiple of 16; all-255 runs (the
        // largest sums) included. The bound holds for near and far pairs, and is tight for equal ones.
        var random = new Random(length);
        var runs = FeatureDistance.RunCount(length);
        Assert.Equal((length + 15) / 16, runs);
        for (var round = 0; round < 50; round++)
        {
            var a = new byte[length];
            random.NextBytes(a);
            if (round == 0)
            {
                Array.Fill(a, (byte)255);
            }

            var b = a.Select(v => (byte)Math.Clamp(v + random.Next(-3 * round, 3 * round + 1), 0, 255)).ToArray();
            var sumsA = new int[runs];
            var sumsB = new int[runs];
            FeatureDistance.RunSums(a, sumsA);
            FeatureDistance.RunSums(b, sumsB);
            Assert.Equal(Enumerable.Range(0, runs).Select(r => a.Skip(r * 16).Take(16).Sum(v => v)), sumsA);
            var bound = FeatureDistance.RunSumBound(sumsA, sumsB);
            Assert.Equal(sumsA.Zip(sumsB, (x, y) => (long)(x - y) * (x - y)).Sum(), bound);
            Assert.InRange(bound, 0, FeatureDistance.SumRun * FeatureDistance.SquaredL2(a, b));
            Assert.Equal(0, FeatureDistance.RunSumBound(sumsA, sumsA));
        }

        Assert.Throws<ArgumentException>(() => FeatureDistance.RunSums(new byte[length + 16], new int[runs]));
    }
}
