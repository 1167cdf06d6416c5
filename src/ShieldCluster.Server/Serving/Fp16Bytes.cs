using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ShieldCluster.Protection.Numerics;

namespace ShieldCluster.Server.Serving;

/// <summary>
/// FP16 tensors as raw bytes (IEEE 754 binary16, little-endian, row-major), the form the protocol's
/// binary encodings carry them in. On a little-endian machine the server keeps them as they came
/// (<see cref="InferInput.Halves"/>); these widen them to FP32 where that is not possible (a
/// big-endian machine) and for tests.
/// </summary>
public static class Fp16Bytes
{
    /// <summary>Bytes per FP16 value.</summary>
    public const int Size = 2;

    /// <summary>The values in <paramref name="bytes"/>, widened; its length must be a multiple of <see cref="Size"/>.</summary>
    public static float[] Read(ReadOnlySpan<byte> bytes)
    {
        var values = TensorBuffers.Rent(bytes.Length / Size);
        Widen(bytes[..(values.Length * Size)], values);
        return values;
    }

    /// <summary>
    /// Widens, in place, the FP16 values whose raw bytes fill the first half of
    /// <paramref name="values"/>' memory: the same values as <see cref="Read"/>. Blocks go from the
    /// last to the first, each copied aside before it is overwritten; a block's FP32 values never
    /// reach the bytes of the blocks before it.
    /// </summary>
    public static void WidenInPlace(Span<float> values)
    {
        var bytes = MemoryMarshal.AsBytes(values);
        Span<byte> aside = stackalloc byte[256 * Size];
        for (var end = values.Length; end > 0; end -= aside.Length / Size)
        {
            var start = Math.Max(0, end - (aside.Length / Size));
            var raw = aside[..((end - start) * Size)];
            bytes.Slice(start * Size, raw.Length).CopyTo(raw);
            Widen(raw, values[start..end]);
        }
    }

    /// <summary>Widens the little-endian FP16 values in <paramref name="raw"/> into <paramref name="values"/> (as many).</summary>
    private static void Widen(ReadOnlySpan<byte> raw, Span<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            HalfWidening.Widen(MemoryMarshal.Cast<byte, Half>(raw), values);
            return;
        }

        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw.Slice(i * Size, Size));
        }
    }
}
