using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

        if (Avx2.IsSupported && a.Length >= Vector256<byte>.Count)
        {
            return SquaredL2Avx2(a, b);
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

        if (Avx2.IsSupported && a.Length >= Vector256<byte>.Count)
        {
            return DotAvx2(a, b);
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

    /// <summary>Vectors (of 32 bytes) summed into the 32-bit lanes before they are added to the total: each adds at most 4 x 255² to a lane.</summary>
    private const int FlushVectors = 2048;

    /// <summary>
    /// <see cref="SquaredL2"/> on AVX2: |a - b| per byte (saturating subtractions both ways, or-ed),
    /// zero-extended to 16 bits and squared and pair-summed by one multiply-add into 32-bit lanes
    /// (a third of the instructions of widening twice and multiplying 32-bit lanes). The same integer.
    /// </summary>
    private static long SquaredL2Avx2(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        ref var ra = ref MemoryMarshal.GetReference(a);
        ref var rb = ref MemoryMarshal.GetReference(b);
        var length = a.Length;
        long sum = 0;
        var i = 0;
        while (i <= length - Vector256<byte>.Count)
        {
            var accumulator = Vector256<int>.Zero;
            var end = Math.Min(length - Vector256<byte>.Count, i + ((FlushVectors - 1) * Vector256<byte>.Count));
            for (; i <= end; i += Vector256<byte>.Count)
            {
                var va = Vector256.LoadUnsafe(ref ra, (nuint)i);
                var vb = Vector256.LoadUnsafe(ref rb, (nuint)i);
                var d = Avx2.Or(Avx2.SubtractSaturate(va, vb), Avx2.SubtractSaturate(vb, va));
                var low = Avx2.UnpackLow(d, Vector256<byte>.Zero).AsInt16();
                var high = Avx2.UnpackHigh(d, Vector256<byte>.Zero).AsInt16();
                accumulator = Avx2.Add(accumulator, Avx2.Add(Avx2.MultiplyAddAdjacent(low, low), Avx2.MultiplyAddAdjacent(high, high)));
            }

            sum += Vector256.Sum(Vector256.WidenLower(accumulator) + Vector256.WidenUpper(accumulator));
        }

        if (i <= length - Vector128<byte>.Count)
        {
            var va = Vector128.LoadUnsafe(ref ra, (nuint)i);
            var vb = Vector128.LoadUnsafe(ref rb, (nuint)i);
            var d = Sse2.Or(Sse2.SubtractSaturate(va, vb), Sse2.SubtractSaturate(vb, va));
            var low = Sse2.UnpackLow(d, Vector128<byte>.Zero).AsInt16();
            var high = Sse2.UnpackHigh(d, Vector128<byte>.Zero).AsInt16();
            sum += Vector128.Sum(Sse2.Add(Sse2.MultiplyAddAdjacent(low, low), Sse2.MultiplyAddAdjacent(high, high)));
            i += Vector128<byte>.Count;
        }

        for (; i < length; i++)
        {
            var d = Unsafe.Add(ref ra, i) - Unsafe.Add(ref rb, i);
            sum += d * d;
        }

        return sum;
    }

    /// <summary><see cref="Dot"/> on AVX2: bytes zero-extended to 16 bits, multiplied and pair-summed by one multiply-add into 32-bit lanes. The same integer.</summary>
    private static long DotAvx2(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        ref var ra = ref MemoryMarshal.GetReference(a);
        ref var rb = ref MemoryMarshal.GetReference(b);
        var length = a.Length;
        long sum = 0;
        var i = 0;
        while (i <= length - Vector256<byte>.Count)
        {
            var accumulator = Vector256<int>.Zero;
            var end = Math.Min(length - Vector256<byte>.Count, i + ((FlushVectors - 1) * Vector256<byte>.Count));
            for (; i <= end; i += Vector256<byte>.Count)
            {
                var va = Vector256.LoadUnsafe(ref ra, (nuint)i);
                var vb = Vector256.LoadUnsafe(ref rb, (nuint)i);
                var low = Avx2.MultiplyAddAdjacent(Avx2.UnpackLow(va, Vector256<byte>.Zero).AsInt16(), Avx2.UnpackLow(vb, Vector256<byte>.Zero).AsInt16());
                var high = Avx2.MultiplyAddAdjacent(Avx2.UnpackHigh(va, Vector256<byte>.Zero).AsInt16(), Avx2.UnpackHigh(vb, Vector256<byte>.Zero).AsInt16());
                accumulator = Avx2.Add(accumulator, Avx2.Add(low, high));
            }

            sum += Vector256.Sum(Vector256.WidenLower(accumulator) + Vector256.WidenUpper(accumulator));
        }

        if (i <= length - Vector128<byte>.Count)
        {
            var va = Vector128.LoadUnsafe(ref ra, (nuint)i);
            var vb = Vector128.LoadUnsafe(ref rb, (nuint)i);
            var low = Sse2.MultiplyAddAdjacent(Sse2.UnpackLow(va, Vector128<byte>.Zero).AsInt16(), Sse2.UnpackLow(vb, Vector128<byte>.Zero).AsInt16());
            var high = Sse2.MultiplyAddAdjacent(Sse2.UnpackHigh(va, Vector128<byte>.Zero).AsInt16(), Sse2.UnpackHigh(vb, Vector128<byte>.Zero).AsInt16());
            sum += Vector128.Sum(Sse2.Add(low, high));
            i += Vector128<byte>.Count;
        }

        for (; i < length; i++)
        {
            sum += Unsafe.Add(ref ra, i) * Unsafe.Add(ref rb, i);
        }

        return sum;
    }

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
