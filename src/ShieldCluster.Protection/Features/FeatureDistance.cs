using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ShieldCluster.Protection.Features;

/// <summary>Distances between byte feature vectors, vectorised.</summary>
public static class FeatureDistance
{
    /// <summary>Values summed per run by <see cref="RunSums"/>.</summary>
    public const int SumRun = 16;

    /// <summary>Runs of <see cref="SumRun"/> values (the last one shorter if it must) in <paramref name="length"/> values.</summary>
    public static int RunCount(int length) => (length + SumRun - 1) / SumRun;

    /// <summary>The sums of <paramref name="values"/> over consecutive runs of <see cref="SumRun"/> (the last one shorter if it must), into <paramref name="sums"/>.</summary>
    public static void RunSums(ReadOnlySpan<byte> values, Span<int> sums)
    {
        var runs = RunCount(values.Length);
        if (sums.Length < runs)
        {
            throw new ArgumentException($"{runs} sums needed, room for {sums.Length}", nameof(sums));
        }

        var r = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            // 16 bytes widened to 16-bit lanes: a run sums to at most 16 x 255, which a lane holds.
            for (; (r + 1) * SumRun <= values.Length; r++)
            {
                var (low, high) = Vector128.Widen(Vector128.Create(values.Slice(r * SumRun, SumRun)));
                sums[r] = Vector128.Sum(low + high);
            }
        }

        for (; r < runs; r++)
        {
            var sum = 0;
            foreach (var value in values.Slice(r * SumRun, Math.Min(SumRun, values.Length - (r * SumRun))))
            {
                sum += value;
            }

            sums[r] = sum;
        }
    }

    /// <summary>
    /// <see cref="SumRun"/> times a lower bound of the squared distance of two vectors, from their
    /// <see cref="RunSums"/>: by Cauchy-Schwarz a run's squared differences add up to at least its
    /// sums' difference squared over its length (at most <see cref="SumRun"/>). Vectorised; a run sum
    /// is at most 16 x 255, so a difference squares without overflow in an int.
    /// </summary>
    public static long RunSumBound(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        long bound = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<int>.Count)
        {
            var squares = Vector<long>.Zero;
            for (; i <= a.Length - Vector<int>.Count; i += Vector<int>.Count)
            {
                var d = new Vector<int>(a.Slice(i, Vector<int>.Count)) - new Vector<int>(b.Slice(i, Vector<int>.Count));
                Vector.Widen(d * d, out var low, out var high);
                squares += low + high;
            }

            bound = Vector.Sum(squares);
        }

        for (; i < a.Length; i++)
        {
            long d = a[i] - b[i];
            bound += d * d;
        }

        return bound;
    }

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

    private static long SquaredL2Avx2(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => SumAvx2<SquaredDifference>(a, b);

    private static long DotAvx2(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => SumAvx2<Product>(a, b);

    /// <summary>
    /// The sum over the byte pairs of <typeparamref name="TTerm"/>'s term, on AVX2: 32 pairs at a time
    /// into 32-bit lanes, flushed into the total every <see cref="FlushVectors"/> vectors, then one
    /// 16-byte step and the rest one pair at a time. The same integer as the scalar sum.
    /// </summary>
    private static long SumAvx2<TTerm>(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
        where TTerm : struct, IPairTerm
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
                accumulator = Avx2.Add(accumulator, TTerm.Lanes(Vector256.LoadUnsafe(ref ra, (nuint)i), Vector256.LoadUnsafe(ref rb, (nuint)i)));
            }

            sum += Vector256.Sum(Vector256.WidenLower(accumulator) + Vector256.WidenUpper(accumulator));
        }

        if (i <= length - Vector128<byte>.Count)
        {
            sum += Vector128.Sum(TTerm.Lanes(Vector128.LoadUnsafe(ref ra, (nuint)i), Vector128.LoadUnsafe(ref rb, (nuint)i)));
            i += Vector128<byte>.Count;
        }

        for (; i < length; i++)
        {
            sum += TTerm.One(Unsafe.Add(ref ra, i), Unsafe.Add(ref rb, i));
        }

        return sum;
    }

    /// <summary>One term of a sum over byte pairs, for one pair and for a vector of pairs (pair-summed into 32-bit lanes).</summary>
    private interface IPairTerm
    {
        static abstract Vector256<int> Lanes(Vector256<byte> a, Vector256<byte> b);

        static abstract Vector128<int> Lanes(Vector128<byte> a, Vector128<byte> b);

        static abstract int One(byte a, byte b);
    }

    /// <summary>
    /// (a - b)²: |a - b| per byte (saturating subtractions both ways, or-ed), zero-extended to 16 bits
    /// and squared and pair-summed by one multiply-add (a third of the instructions of widening twice
    /// and multiplying 32-bit lanes).
    /// </summary>
    private readonly struct SquaredDifference : IPairTerm
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Lanes(Vector256<byte> a, Vector256<byte> b)
        {
            var d = Avx2.Or(Avx2.SubtractSaturate(a, b), Avx2.SubtractSaturate(b, a));
            var low = Avx2.UnpackLow(d, Vector256<byte>.Zero).AsInt16();
            var high = Avx2.UnpackHigh(d, Vector256<byte>.Zero).AsInt16();
            return Avx2.Add(Avx2.MultiplyAddAdjacent(low, low), Avx2.MultiplyAddAdjacent(high, high));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> Lanes(Vector128<byte> a, Vector128<byte> b)
        {
            var d = Sse2.Or(Sse2.SubtractSaturate(a, b), Sse2.SubtractSaturate(b, a));
            var low = Sse2.UnpackLow(d, Vector128<byte>.Zero).AsInt16();
            var high = Sse2.UnpackHigh(d, Vector128<byte>.Zero).AsInt16();
            return Sse2.Add(Sse2.MultiplyAddAdjacent(low, low), Sse2.MultiplyAddAdjacent(high, high));
        }

        public static int One(byte a, byte b) => (a - b) * (a - b);
    }

    /// <summary>a x b: bytes zero-extended to 16 bits, multiplied and pair-summed by one multiply-add.</summary>
    private readonly struct Product : IPairTerm
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Lanes(Vector256<byte> a, Vector256<byte> b) => Avx2.Add(
            Avx2.MultiplyAddAdjacent(Avx2.UnpackLow(a, Vector256<byte>.Zero).AsInt16(), Avx2.UnpackLow(b, Vector256<byte>.Zero).AsInt16()),
            Avx2.MultiplyAddAdjacent(Avx2.UnpackHigh(a, Vector256<byte>.Zero).AsInt16(), Avx2.UnpackHigh(b, Vector256<byte>.Zero).AsInt16()));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<int> Lanes(Vector128<byte> a, Vector128<byte> b) => Sse2.Add(
            Sse2.MultiplyAddAdjacent(Sse2.UnpackLow(a, Vector128<byte>.Zero).AsInt16(), Sse2.UnpackLow(b, Vector128<byte>.Zero).AsInt16()),
            Sse2.MultiplyAddAdjacent(Sse2.UnpackHigh(a, Vector128<byte>.Zero).AsInt16(), Sse2.UnpackHigh(b, Vector128<byte>.Zero).AsInt16()));

        public static int One(byte a, byte b) => a * b;
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
