using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ShieldCluster.Protection.Numerics;

/// <summary>
/// FP16 to FP32, bit for bit what <see cref="TensorPrimitives.ConvertToSingle(ReadOnlySpan{Half}, Span{float})"/>
/// gives for every one of the 65,536 FP16 values, in fewer instructions where 256-bit vectors are
/// accelerated, and summed as it is widened where only sums are needed (an image's pooling).
/// </summary>
/// <remarks>
/// An FP16 value's exponent and mantissa, shifted into an FP32's place, are a float 2^-112 times the
/// value (normal values and subnormals alike: the FP32 reading of a subnormal FP16 is a subnormal
/// FP32, exact), so one exact multiplication by 2^112 widens it; infinities and NaNs (exponent all
/// ones) get the FP32 exponent all ones and NaNs their quiet bit, and the sign is put back last.
/// Exact on threads that keep subnormal inputs (no DAZ flag: .NET and ONNX Runtime leave it off
/// unless told otherwise).
/// About a dozen vector instructions per 8 values, against the general conversion's branches and
/// blends. On this project's 2-core VM (AMD EPYC, AVX2; BenchmarkDotNet's LargeInputBenchmarks) a
/// 3x224x224 image widens in 30.8 µs against 33.4 (the copy's memory traffic bounds both), and its
/// features, whose pooling sums each band of rows as it widens instead of widening the band into a
/// buffer first, take 54.8 µs against 66.9. Without 256-bit acceleration (ARM64's 128-bit
/// vectors, for one) both fall back to <see cref="TensorPrimitives"/>.
/// </remarks>
public static class HalfWidening
{
    private const uint MagnitudeMask = 0x7FFF;
    private const uint SignMask = 0x8000;
    private const uint ShiftedExponent = 0x0F80_0000; // an FP16 exponent of all ones, shifted left 13
    private const uint SingleExponent = 0x7F80_0000;
    private const uint QuietBit = 0x0040_0000;
    private const uint TwoTo112 = 0x7780_0000; // 2^112 as FP32 bits: 127 - 15 = 112 rebiases the exponent

    /// <summary>Whether the vectorised paths run (else <see cref="TensorPrimitives"/> does the work).</summary>
    internal static bool IsAccelerated => Vector256.IsHardwareAccelerated;

    /// <summary>Widens <paramref name="source"/> into <paramref name="destination"/> (at least as long).</summary>
    public static void Widen(ReadOnlySpan<Half> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException($"the destination needs {source.Length} values", nameof(destination));
        }

        if (!IsAccelerated)
        {
            TensorPrimitives.ConvertToSingle(source, destination);
            return;
        }

        ref var from = ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(source));
        ref var to = ref MemoryMarshal.GetReference(destination);
        var i = 0;
        for (; i <= source.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Widen8(ref from, (nuint)i).StoreUnsafe(ref to, (nuint)i);
        }

        // The tail: the runtime's own conversion, bit for bit the vectors' (the tests check both).
        for (; i < source.Length; i++)
        {
            destination[i] = (float)source[i];
        }
    }

    /// <summary>
    /// Sums the <paramref name="rows"/> rows of FP16 values in <paramref name="band"/> column-wise into
    /// <paramref name="sums"/> (a row is <c>sums.Length</c> values), each column's widened values added
    /// in row order: bit for bit the sums of widening the band and adding one whole row after another.
    /// </summary>
    internal static void SumRows(ReadOnlySpan<Half> band, int rows, Span<float> sums)
    {
        var width = sums.Length;
        if ((long)rows * width > band.Length || rows < 1)
        {
            throw new ArgumentException($"the band holds {band.Length} values, not {rows} rows of {width}", nameof(band));
        }

        ref var first = ref Unsafe.As<Half, ushort>(ref MemoryMarshal.GetReference(band));
        ref var destination = ref MemoryMarshal.GetReference(sums);
        var x = 0;
        if (IsAccelerated)
        {
            // Four columns of vectors at a time: their sums are independent, so the additions overlap.
            const int Step = 4 * 8;
            for (; x <= width - Step; x += Step)
            {
                var s0 = Widen8(ref first, (nuint)x);
                var s1 = Widen8(ref first, (nuint)(x + 8));
                var s2 = Widen8(ref first, (nuint)(x + 16));
                var s3 = Widen8(ref first, (nuint)(x + 24));
                for (var r = 1; r < rows; r++)
                {
                    var at = (nuint)((r * width) + x);
                    s0 += Widen8(ref first, at);
                    s1 += Widen8(ref first, at + 8);
                    s2 += Widen8(ref first, at + 16);
                    s3 += Widen8(ref first, at + 24);
                }

                s0.StoreUnsafe(ref destination, (nuint)x);
                s1.StoreUnsafe(ref destination, (nuint)(x + 8));
                s2.StoreUnsafe(ref destination, (nuint)(x + 16));
                s3.StoreUnsafe(ref destination, (nuint)(x + 24));
            }

            for (; x <= width - 8; x += 8)
            {
                var sum = Widen8(ref first, (nuint)x);
                for (var r = 1; r < rows; r++)
                {
                    sum += Widen8(ref first, (nuint)((r * width) + x));
                }

                sum.StoreUnsafe(ref destination, (nuint)x);
            }
        }

        for (; x < width; x++)
        {
            var sum = (float)band[x];
            for (var r = 1; r < rows; r++)
            {
                sum += (float)band[(r * width) + x];
            }

            sums[x] = sum;
        }
    }

    /// <summary>The 8 FP16 values at <paramref name="at"/>, widened.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen8(ref ushort source, nuint at)
    {
        var h = Vector256.WidenLower(Vector128.LoadUnsafe(ref source, at).ToVector256Unsafe());
        var magnitude = (h & Vector256.Create(MagnitudeMask)) << 13;
        var bits = Vector256.Multiply(magnitude.AsSingle(), Vector256.Create(BitConverter.UInt32BitsToSingle(TwoTo112))).AsUInt32();

        // Infinities and NaNs: the FP32 exponent all ones; NaNs (a mantissa) also quiet.
        var special = Vector256.Equals(magnitude & Vector256.Create(ShiftedExponent), Vector256.Create(ShiftedExponent));
        // (Signed compare: the magnitudes fit in 28 bits, and AVX2 compares signed integers only.)
        var nan = Vector256.GreaterThan(magnitude.AsInt32(), Vector256.Create((int)ShiftedExponent)).AsUInt32();
        bits |= (special & Vector256.Create(SingleExponent)) | (nan & Vector256.Create(QuietBit));
        return (bits | ((h & Vector256.Create(SignMask)) << 16)).AsSingle();
    }
}
