using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ShieldCluster.Server.Serving;

/// <summary>
/// FP32 tensors as raw bytes, the way the protocol's binary forms carry them (gRPC
/// <c>raw_input_contents</c>, the HTTP binary tensor extension): flattened row-major, little-endian,
/// no padding.
/// </summary>
public static class Fp32Bytes
{
    /// <summary>Bytes per FP32 value.</summary>
    public const int Size = sizeof(float);

    /// <summary>The values in <paramref name="bytes"/>; its length must be a multiple of <see cref="Size"/>.</summary>
    public static float[] Read(ReadOnlySpan<byte> bytes)
    {
        var values = TensorBuffers.Rent(bytes.Length / Size);
        bytes[..(values.Length * Size)].CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        FromLittleEndian(values);
        return values;
    }

    /// <summary>Turns values whose bytes were copied from the wire as they came (little-endian) into this machine's order, in place.</summary>
    public static void FromLittleEndian(Span<float> values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            var bits = MemoryMarshal.Cast<float, int>(values);
            BinaryPrimitives.ReverseEndianness(bits, bits);
        }
    }

    /// <summary>Writes <paramref name="values"/> into <paramref name="destination"/> (at least <c>values.Length * 4</c> bytes).</summary>
    public static void Write(ReadOnlySpan<float> values, Span<byte> destination)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(destination);
            return;
        }

        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(destination.Slice(i * Size, Size), values[i]);
        }
    }

    /// <summary>The values as a new byte array.</summary>
    public static byte[] ToArray(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * Size];
        Write(values, bytes);
        return bytes;
    }
}
