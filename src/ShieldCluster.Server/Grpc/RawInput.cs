using System.Buffers;
using System.Runtime.InteropServices;
using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Grpc;

/// <summary>
/// One entry of <c>raw_input_contents</c> as the server keeps it: its length on the wire and, where
/// it can be served (its input's datatype is FP32 or FP16 and the length a multiple of the value
/// size), its values from <see cref="TensorBuffers"/>: FP32 decoded in a float array, FP16 kept as
/// they came in a half-precision one.
/// </summary>
/// <param name="Length">The entry's bytes on the wire.</param>
/// <param name="Values">FP32 values; null for FP16 and where they were not decoded (a datatype not served, a length that does not divide).</param>
/// <param name="Halves">FP16 values as they came (validated, fingerprinted and batched as they are); null for other datatypes.</param>
public readonly record struct RawInput(int Length, float[]? Values, Half[]? Halves = null)
{
    /// <summary>Hands the arrays back to <see cref="TensorBuffers"/> (only while nothing else holds them).</summary>
    public void Return()
    {
        TensorBuffers.Return(Values);
        TensorBuffers.Return(Halves);
    }

    /// <summary>
    /// <paramref name="bytes"/> as values of <paramref name="datatype"/>: copied once, straight into a
    /// rented array of exactly as many values (FP32 decoded there in place, FP16 kept as it came), as
    /// the HTTP binary tensor extension does. Not decoded where the datatype is not served or the length
    /// is not a multiple of its value size: the request is refused with a message that names why.
    /// </summary>
    public static RawInput Decode(string? datatype, in ReadOnlySequence<byte> bytes)
    {
        var length = checked((int)bytes.Length);
        var width = RawTensors.ValueSize(datatype);
        if (width == 0 || length % width != 0)
        {
            return new RawInput(length, null);
        }

        if (width == Fp16Bytes.Size && BitConverter.IsLittleEndian)
        {
            // Kept as they came: validated, fingerprinted and batched as they are.
            var halves = TensorBuffers.RentHalves(length / width);
            bytes.CopyTo(MemoryMarshal.AsBytes(halves.AsSpan()));
            return new RawInput(length, null, halves);
        }

        var values = TensorBuffers.Rent(length / width);
        bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        RawTensors.DecodeInPlace(datatype, values);
        return new RawInput(length, values);
    }
}
