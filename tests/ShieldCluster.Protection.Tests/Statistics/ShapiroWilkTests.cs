using ShieldCluster.Protection.Statistics;

namespace ShieldCluster.Protection.Tests.Statistics;

/// <summary>
/// Reference values: W and p from SciPy 1.10.1 <c>scipy.stats.shapiro</c> (Debian's python3-scipy),
/// which implements Royston's AS R94 in single precision, so agreement is checked to about 1e-6.
/// The first sample is Shapiro and Wilk's own example (Biometrika 1965: weights of 11 men, W = 0.79).
/// </summary>
public class ShapiroWilkTests
{
    private readonly ShapiroWilk _test = new();

    public static TheoryData<string, double[], double, double> References => new()
    {
        { "Shapiro-Wilk 1965 weights", [148, 154, 158, 160, 161, 162, 166, 170, 182, 195, 236], 0.7888147830963135, 0.006703833118081093 },
        { "n=3", [1.0, 2.0, 4.0], 0.9642857313156128, 0.6368856430053711 },
        { "n=5", [2.1, 3.4, 1.9, 5.6, 4.4], 0.9320847988128662, 0.6106548309326172 },
        { "n=8", [6.0, 1.0, -4.0, 8.0, -2.0, 5.0, 0.0, 3.0], 0.9775082468986511, 0.9495404362678528 },
        { "uniform n=20", [0.774, 0.4389, 0.8586, 0.6974, 0.0942, 0.9756, 0.7611, 0.7861, 0.1281, 0.4504, 0.3708, 0.9268, 0.6439, 0.8228, 0.4434, 0.2272, 0.5546, 0.0638, 0.8276, 0.6317], 0.9296472072601318, 0.15202076733112335 },
        {
            "normal n=50",
            [-0.1849, -0.6809, 1.2225, -0.1545, -0.4283, -0.3521, 0.5323, 0.3654, 0.4127, 0.4308, 2.1416, -0.4064, -0.5122, -0.8138, 0.616, 1.129, -0.1139, -0.8402, -0.8245, 0.6506, 0.7433, 0.5432, -0.6655, 0.2322, 0.1167, 0.2187, 0.8714, 0.2236, 0.6789, 0.0676, 0.2891, 0.6313, -1.4572, -0.3197, -0.4704, -0.6389, -0.2751, 1.4949, -0.8658, 0.9683, -1.6829, -0.3349, 0.1628, 0.5862, 0.7112, 0.7933, -0.3487, -0.4624, 0.858, -0.1913],
            0.9863246083259583, 0.8267275094985962
        },
        {
            "exponential n=100",
            [2.028, 0.3321, 0.0498, 0.9248, 2.5534, 0.8211, 2.1309, 0.753, 1.314, 0.2888, 0.1344, 0.1425, 0.1177, 0.0547, 1.7166, 0.4486, 0.3861, 0.935, 0.1873, 1.9183, 1.292, 0.3292, 0.2006, 0.531, 0.3048, 0.0757, 0.5036, 2.2519, 1.0088, 3.0824, 2.0464, 1.1179, 1.8506, 0.7269, 1.0678, 0.3802, 0.2191, 2.1449, 0.1403, 0.1879, 0.3102, 0.9675, 0.4138, 0.6845, 2.1598, 1.5417, 1.1712, 0.1709, 1.1894, 0.4545, 0.1238, 0.3994, 0.0706, 0.9151, 0.9717, 0.2943, 0.0458, 2.7293, 0.8078, 1.4881, 0.3528, 1.6764, 1.6413, 0.0931, 5.4316, 0.6736, 1.3978, 0.2437, 0.9838, 0.2862, 1.6139, 0.4631, 0.7791, 0.5281, 0.7535, 0.4723, 0.613, 0.0287, 1.5875, 2.5096, 0.581, 3.4041, 0.1681, 2.7846, 0.3644, 0.6687, 2.437, 0.1269, 0.191, 1.3425, 0.9824, 0.288, 0.4434, 0.7499, 1.8998, 0.3583, 0.7651, 0.3542, 0.3043, 2.1335],
            0.8317063450813293, 2.6461222102369675e-09
        },
    };

    [Theory]
    [MemberData(nameof(References))]
    public void Test_MatchesPublishedImplementation(string sample, double[] values, double expectedW, double expectedP)
    {
        var (w, p) = _test.Test(values);
        Assert.True(Math.Abs(w - expectedW) < 2e-6, $"{sample}: W {w} vs {expectedW}");
        Assert.True(Math.Abs(p - expectedP) < Math.Max(2e-5, expectedP * 1e-3), $"{sample}: p {p} vs {expectedP}");
    }

    [Fact]
    public void Statistic_OrderDoesNotMatter()
    {
        double[] values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
        var reversed = values.Reverse().ToArray();
        Assert.Equal(_test.Statistic(values), _test.Statistic(reversed), 12);
    }

    [Fact]
    public void Statistic_ConstantSample_IsOne()
    {
        Assert.Equal(1.0, _test.Statistic([2, 2, 2, 2, 2]));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5001)]
    public void Statistic_SizeOutsideRange_Throws(int n)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _test.Statistic(new double[n]));
    }

    [Fact]
    public void Statistic_BimodalSample_IsFarBelowNormal()
    {
        // What PRADA sees from synthetic extraction: many tiny distances and a few large ones.
        var values = Enumerable.Range(0, 90).Select(i => 0.01 * (i % 3)).Concat(Enumerable.Range(0, 10).Select(i => 5.0 + i)).ToArray();
        Assert.True(_test.Statistic(values) < 0.6);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(17)]
    [InlineData(200)]
    [InlineData(499)]
    [InlineData(500)]
    [InlineData(5000)]
    public void StatisticOfSorted_IsTheTwoPassSumsOfTheDefinition(int n)
    {
        // The vector accumulators only reorder the additions: W agrees with one running sum per term
        // to rounding, on samples as PRADA's distances are (positive, a mass of small ones and a tail).
        var random = new Random(n);
        var a = ShapiroWilk.Coefficients(n);
        for (var round = 0; round < 20; round++)
        {
            var x = Enumerable.Range(0, n).Select(_ => random.Next(4) == 0 ? 50 + (200 * random.NextDouble()) : random.NextDouble()).Order().ToArray();
            var mean = x.Sum() / n;
            double numerator = 0, denominator = 0;
            for (var i = 0; i < n; i++)
            {
                numerator += a[i] * x[i];
                denominator += (x[i] - mean) * (x[i] - mean);
            }

            var expected = Math.Min(1.0, numerator * numerator / denominator);
            Assert.Equal(expected, ShapiroWilk.StatisticOfSorted(x), 1e-12);
        }
    }
}
