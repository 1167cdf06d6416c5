using System.Numerics.Tensors;

namespace ShieldCluster.Protection.Statistics;

/// <summary>
/// The Shapiro-Wilk test of normality: the W statistic and its p-value, for 3 to 5,000 values.
/// </summary>
/// <remarks>
/// Royston's approximations: the coefficients a_i from the expected normal order statistics with
/// polynomial corrections for the two extreme ones, and the normalising transformations of W for
/// the p-value (J. P. Royston, "Approximating the Shapiro-Wilk W-test for non-normality",
/// Statistics and Computing 2, 1992; Algorithm AS R94, Applied Statistics 44, 1995). Checked in the
/// tests against reference values from a published implementation of AS R94.
/// The coefficients depend only on n; they are computed once per n and shared by every instance.
/// </remarks>
public sealed class ShapiroWilk
{
    private static readonly double[] AnPoly = [0.0, 0.221157, -0.147981, -2.071190, 4.434685, -2.706056];
    private static readonly double[] An1Poly = [0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633];

    // Shared by every instance (every client's PRADA): the coefficients depend on n only, and
    // computing them costs n inverse-normal evaluations. n is at most MaxSize, so the table is bounded.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, double[]> SharedCoefficients = new();
    private double[] _sorted = [];

    /// <summary>The smallest sample the test takes.</summary>
    public const int MinSize = 3;

    /// <summary>The largest sample the approximations are valid for.</summary>
    public const int MaxSize = 5000;

    /// <summary>Computes W and its p-value for <paramref name="values"/> (any order).</summary>
    public (double W, double PValue) Test(ReadOnlySpan<double> values)
    {
        var w = Statistic(values);
        return (w, PValue(w, values.Length));
    }

    /// <summary>The W statistic, in (0, 1]; values close to 1 look normal.</summary>
    public double Statistic(ReadOnlySpan<double> values)
    {
        var n = values.Length;
        if (n is < MinSize or > MaxSize)
        {
            throw new ArgumentOutOfRangeException(nameof(values), n, $"Shapiro-Wilk takes {MinSize} to {MaxSize} values");
        }

        if (_sorted.Length < n)
        {
            _sorted = new double[Math.Max(n, 2 * _sorted.Length)];
        }

        var x = _sorted.AsSpan(0, n);
        values.CopyTo(x);
        x.Sort();
        return StatisticOfSorted(x);
    }

    /// <summary>The W statistic of values already in ascending order (no copy, no sort).</summary>
    public static double StatisticOfSorted(ReadOnlySpan<double> x)
    {
        var n = x.Length;
        if (n is < MinSize or > MaxSize)
        {
            throw new ArgumentOutOfRangeException(nameof(x), n, $"Shapiro-Wilk takes {MinSize} to {MaxSize} values");
        }

        var range = x[n - 1] - x[0];
        if (!(range > 0))
        {
            // All values equal: no spread to judge; W is 1 by convention (nothing non-normal seen).
            return 1.0;
        }

        // TensorPrimitives' sums run over independent vector accumulators: PRADA takes W of its 500
        // distances for every query, and a single running sum waits on each addition in turn.
        var a = Coefficients(n);
        var mean = TensorPrimitives.Sum(x) / n;
        var numerator = TensorPrimitives.Dot(a.AsSpan(0, n), x);
        Span<double> deviations = n <= 1_024 ? stackalloc double[n] : new double[n];
        TensorPrimitives.Subtract(x, mean, deviations);
        var denominator = TensorPrimitives.SumOfSquares(deviations);
        return Math.Min(1.0, numerator * numerator / denominator);
    }

    /// <summary>The p-value of <paramref name="w"/> for a sample of <paramref name="n"/> values (Royston 1992).</summary>
    public static double PValue(double w, int n)
    {
        if (n == 3)
        {
            const double pi6 = 6.0 / Math.PI;
            var stqr = Math.Asin(Math.Sqrt(0.75));
            return Math.Max(0, pi6 * (Math.Asin(Math.Sqrt(w)) - stqr));
        }

        var w1 = Math.Log(1 - w);
        if (double.IsNegativeInfinity(w1))
        {
            return 1.0;
        }

        double m, s, y;
        if (n <= 11)
        {
            var gamma = (0.459 * n) - 2.273;
            if (w1 >= gamma)
            {
                return 1e-99;
            }

            y = -Math.Log(gamma - w1);
            m = 0.5440 - (0.39978 * n) + (0.025054 * n * n) - (0.0006714 * n * n * n);
            s = Math.Exp(1.3822 - (0.77857 * n) + (0.062767 * n * n) - (0.0020322 * n * n * n));
        }
        else
        {
            var ln = Math.Log(n);
            y = w1;
            m = (0.0038915 * ln * ln * ln) - (0.083751 * ln * ln) - (0.31082 * ln) - 1.5861;
            s = Math.Exp((0.0030302 * ln * ln) - (0.082676 * ln) - 0.4803);
        }

        return 1 - Normal.Cdf((y - m) / s);
    }

    internal static double[] Coefficients(int n) => SharedCoefficients.GetOrAdd(n, Compute);

    private static double[] Compute(int n)
    {
        var a = new double[n];
        if (n == 3)
        {
            a[0] = -Math.Sqrt(0.5);
            a[2] = Math.Sqrt(0.5);
        }
        else
        {
            var m = new double[n];
            var mm = 0.0;
            for (var i = 0; i < n; i++)
            {
                m[i] = Normal.InverseCdf((i + 1 - 0.375) / (n + 0.25));
                mm += m[i] * m[i];
            }

            var u = 1 / Math.Sqrt(n);
            var an = (m[n - 1] / Math.Sqrt(mm)) + Polynomial(AnPoly, u);
            a[n - 1] = an;
            a[0] = -an;
            if (n > 5)
            {
                var an1 = (m[n - 2] / Math.Sqrt(mm)) + Polynomial(An1Poly, u);
                a[n - 2] = an1;
                a[1] = -an1;
                var phi = (mm - (2 * m[n - 1] * m[n - 1]) - (2 * m[n - 2] * m[n - 2])) / (1 - (2 * an * an) - (2 * an1 * an1));
                for (var i = 2; i < n - 2; i++)
                {
                    a[i] = m[i] / Math.Sqrt(phi);
                }
            }
            else
            {
                var phi = (mm - (2 * m[n - 1] * m[n - 1])) / (1 - (2 * an * an));
                for (var i = 1; i < n - 1; i++)
                {
                    a[i] = m[i] / Math.Sqrt(phi);
                }
            }
        }

        return a;
    }

    private static double Polynomial(double[] c, double u)
    {
        var result = 0.0;
        for (var i = c.Length - 1; i >= 0; i--)
        {
            result = (result * u) + c[i];
        }

        return result;
    }
}
