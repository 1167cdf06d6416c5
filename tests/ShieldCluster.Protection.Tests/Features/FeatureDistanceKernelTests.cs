using ShieldCluster.Protection.Features;

namespace ShieldCluster.Protection.Tests.Features;

public class FeatureDistanceKernelTests
{
    [Fact]
    public void SquaredL2AndDot_EveryLengthTo300_MatchScalarDefinition()
    {
        // Every tail shape of the 32- and 16-byte steps, at random offsets into the arrays.
        var random = new Random(5);
        for (var length = 0; length <= 300; length++)
        {
            var a = new byte[length + 7];
            var b = new byte[length + 7];
            random.NextBytes(a);
            random.NextBytes(b);
            var x = a.AsSpan(random.Next(8), length);
            var y = b.AsSpan(random.Next(8), length);
            long squares = 0;
            long dot = 0;
            for (var i = 0; i < length; i++)
            {
                squares += (x[i] - y[i]) * (x[i] - y[i]);
                dot += x[i] * y[i];
            }

            Assert.Equal(squares, FeatureDistance.SquaredL2(x, y));
            Assert.Equal(dot, FeatureDistance.Dot(x, y));
        }
    }

    [Theory]
    [InlineData(65_536)]
    [InlineData(65_568)]
    [InlineData(200_000)]
    public void SquaredL2AndDot_ExtremeValuesPastTheLaneFlush_DoNotOverflow(int length)
    {
        // 255 against 0 everywhere (and 255 against 255): the most a lane can gain per step, past
        // the 2,048 steps after which the 32-bit lanes are added to the total.
        var zeros = new byte[length];
        var full = Enumerable.Repeat((byte)255, length).ToArray();
        Assert.Equal(65_025L * length, FeatureDistance.SquaredL2(full, zeros));
        Assert.Equal(65_025L * length, FeatureDistance.SquaredL2(zeros, full));
        Assert.Equal(65_025L * length, FeatureDistance.Dot(full, full));
        Assert.Equal(0, FeatureDistance.Dot(full, zeros));
    }
}
