using System.Numerics;
using System.Runtime.InteropServices;

namespace ShieldCluster.Protection.Features;

/// <summary>Distances between byte feature vectors, vectorised.</summary>
public static class FeatureDistance
{
    /// <summary>Squared Euclidean distance between two equally long byte vectors.</summary>
    public static long SquaredL2(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"vectors differ in length ({a.Length} and {b.Length})", nameof(b));
        }

        long sum = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<byte>.Count)
        {
            // Widen bytes to 16-bit differences (|d| <= 255 fits) and to 32-bit squares; one lane
            // gains at most 4 * 255² per step, so an int lane holds thousands of steps.
            var accumulator = Vector<int>.Zero;
            var va = MemoryMarshal.Cast<byte, Vector<byte>>(a);
            var vb = MemoryMarshal.Cast<byte, Vector<byte>>(b);
            for (var v = 0; v < va.Length; v++)
            {
                Vector.Widen(va[v], out var aLow, out var aHigh);
                Vector.Widen(vb[v], out var bLow, out var bHigh);
                accumulator += Squares(Vector.AsVectorInt16(aLow) - Vector.AsVectorInt16(bLow));
                accumulator += Squares(Vector.AsVectorInt16(aHigh) - Vector.AsVectorInt16(bHigh));
                if ((v & 1023) == 1023)
                {
                    sum += Vector.Sum(accumulator);
                    accumulator = Vector<int>.Zero;
                }
            }

            sum += Vector.Sum(accumulator);
            i = va.Length * Vector<byte>.Count;
        }

        for (; i < a.Length; i++)
        {
            var d = a[i] - b[i];
            sum += d * d;
        }

        return sum;
    }

    /// <summary>Dot product of two equally long byte vectors (exact).</summary>
    public static long Dot(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"vectors differ in length ({a.Length} and {b.Length})", nameof(b));
        }

        long sum = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<byte>.Count)
        {
            // Widen bytes to 16 and then 32 bits; one lane gains at most 4 * 255² per step, so a
            // uint lane holds thousands of steps before it is flushed.
            var accumulator = Vector<uint>.Zero;
            var va = MemoryMarshal.Cast<byte, Vector<byte>>(a);
            var vb = MemoryMarshal.Cast<byte, Vector<byte>>(b);
            for (var v = 0; v < va.Length; v++)
            {
                Vector.Widen(va[v], out var aLow, out var aHigh);
                Vector.Widen(vb[v], out var bLow, out var bHigh);
                accumulator += Products(aLow, bLow) + Products(aHigh, bHigh);
                if ((v & 1023) == 1023)
                {
                    sum += Vector.Sum(Vector.AsVectorInt64(Vector.WidenLower(accumulator)) + Vector.AsVectorInt64(Vector.WidenUpper(accumulator)));
                    accumulator = Vector<uint>.Zero;
                }
            }

            sum += Vector.Sum(Vector.AsVectorInt64(Vector.WidenLower(accumulator)) + Vector.AsVectorInt64(Vector.WidenUpper(accumulator)));
            i = va.Length * Vector<byte>.Count;
        }

        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Euclidean distance between two equally long byte vectors.</summary>
    public static double L2(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => Math.Sqrt(SquaredL2(a, b));

    private static Vector<uint> Products(Vector<ushort> a, Vector<ushort> b)
    {
        Vector.Widen(a, out var aLow, out var aHigh);
        Vector.Widen(b, out var bLow, out var bHigh);
        return (aLow * bLow) + (aHigh * bHigh);
    }

    private static Vector<int> Squares(Vector<short> difference)
    {
        Vector.Widen(difference, out var low, out var high);
        return (low * low) + (high * high);
    }
}
