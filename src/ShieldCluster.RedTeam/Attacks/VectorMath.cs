using System.Numerics.Tensors;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>Small vector helpers for attacks on images in [0, 1].</summary>
internal static class VectorMath
{
    public static float L2(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TensorPrimitives.Distance(a, b);

    public static float Linf(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float max = 0;
        for (var i = 0; i < a.Length; i++)
        {
            max = MathF.Max(max, MathF.Abs(a[i] - b[i]));
        }

        return max;
    }

    public static void Clip01(Span<float> x) => TensorPrimitives.Clamp(x, 0f, 1f, x);

    public static int ArgMax(ReadOnlySpan<float> x) => TensorPrimitives.IndexOfMax(x);

    /// <summary>Projects <paramref name="x"/> into the Linf ball of radius <paramref name="epsilon"/> around <paramref name="origin"/>, then into [0, 1].</summary>
    public static void ProjectLinf(Span<float> x, ReadOnlySpan<float> origin, float epsilon)
    {
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = Math.Clamp(Math.Clamp(x[i], origin[i] - epsilon, origin[i] + epsilon), 0f, 1f);
        }
    }

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
