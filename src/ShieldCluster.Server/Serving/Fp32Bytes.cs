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
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(bytes[..(values.Length * Size)]).CopyTo(values);
        }
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * Size, Size));
            }
        }

        return values;
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
