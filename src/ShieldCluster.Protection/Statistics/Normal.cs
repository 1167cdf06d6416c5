namespace ShieldCluster.Protection.Statistics;

/// <summary>The standard normal distribution's CDF and quantile function.</summary>
public static class Normal
{
    private static readonly double[] A = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
    private static readonly double[] B = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
    private static readonly double[] C = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
    private static readonly double[] D = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];

    /// <summary>Φ⁻¹(p): the quantile of the standard normal distribution, for 0 &lt; p &lt; 1.</summary>
    /// <remarks>
    /// Acklam's rational approximation (relative error below 1.2e-9), refined by one Halley step
    /// against <see cref="Cdf"/>.
    /// </remarks>
    public static double InverseCdf(double p)
    {
        if (!(p > 0 && p < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "p must lie strictly between 0 and 1");
        }

        const double low = 0.02425;
        double x;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
        }
        else if (p <= 1 - low)
        {
            var q = p - 0.5;
            var r = q * q;
            x = (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
        }
        else
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            x = -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
        }

        // One Halley step on Φ(x) - p brings the result to near double precision.
        var e = Cdf(x) - p;
        var u = e * Math.Sqrt(2 * Math.PI) * Math.Exp(x * x / 2);
        return x - (u / (1 + (x * u / 2)));
    }

    /// <summary>Φ(x): the standard normal CDF.</summary>
    public static double Cdf(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    /// <summary>The complementary error function: a Maclaurin series below 0.5, a continued fraction (Lentz) above.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        var ax = Math.Abs(x);
        double result;
        if (ax < 0.5)
        {
            result = 1 - Erf(x);
            return result;
        }

        // erfc(ax) = exp(-ax²) * R(ax) with a continued fraction that converges fast for ax >= 0.5.
        result = Math.Exp(-ax * ax) * ContinuedFraction(ax);
        return x < 0 ? 2 - result : result;
    }

    private static double Erf(double x)
    {
        // Maclaurin series, enough terms for |x| < 0.5 to reach double precision.
        var sum = x;
        var term = x;
        var x2 = x * x;
        for (var n = 1; n < 30; n++)
        {
            term *= -x2 / n;
            var add = term / ((2 * n) + 1);
            sum += add;
            if (Math.Abs(add) < 1e-17 * Math.Abs(sum))
            {
                break;
            }
        }

        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    private static double ContinuedFraction(double x)
    {
        // Lentz's method for erfc(x)·exp(x²)·√π = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))).
        const double tiny = 1e-300;
        var f = x;
        var c = x;
        var d = 0.0;
        for (var i = 1; i < 500; i++)
        {
            var a = i / 2.0;
            d = x + (a * d);
            d = Math.Abs(d) < tiny ? tiny : d;
            c = x + (a / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }

        return 1 / (f * Math.Sqrt(Math.PI));
    }
}
