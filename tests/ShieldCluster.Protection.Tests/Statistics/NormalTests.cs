using ShieldCluster.Protection.Statistics;

namespace ShieldCluster.Protection.Tests.Statistics;

/// <summary>Reference values from SciPy 1.10.1 <c>scipy.stats.norm</c>.</summary>
public class NormalTests
{
    [Theory]
    [InlineData(1e-10, -6.361340902404056)]
    [InlineData(0.001, -3.090232306167813)]
    [InlineData(0.02, -2.053748910631823)]
    [InlineData(0.3, -0.5244005127080409)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.77, 0.7388468491852137)]
    [InlineData(0.999, 3.090232306167813)]
    public void InverseCdf_MatchesReference(double p, double expected)
    {
        Assert.Equal(expected, Normal.InverseCdf(p), 9);
    }

    [Theory]
    [InlineData(-8, 6.22096057427174e-16)]
    [InlineData(-3, 0.0013498980316300933)]
    [InlineData(-1.5, 0.06680720126885807)]
    [InlineData(-0.3, 0.3820885778110474)]
    [InlineData(0, 0.5)]
    [InlineData(0.4, 0.6554217416103242)]
    [InlineData(2, 0.9772498680518208)]
    [InlineData(6, 0.9999999990134123)]
    public void Cdf_MatchesReference(double x, double expected)
    {
        var actual = Normal.Cdf(x);
        Assert.True(Math.Abs(actual - expected) <= 1e-13 + (1e-9 * expected), $"Φ({x}) = {actual}, expected {expected}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-0.1)]
    public void InverseCdf_OutsideOpenInterval_Throws(double p)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Normal.InverseCdf(p));
    }
}
