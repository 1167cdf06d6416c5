namespace ShieldCluster.Server.Serving;

/// <summary>
/// The datatypes served as raw bytes (the HTTP binary tensor extension, gRPC
/// <c>raw_input_contents</c>): FP32 as is; FP16 kept as it came on a little-endian machine
/// (<see cref="InferInput.Halves"/>), else widened to FP32 (<see cref="Fp16Bytes"/>).
/// </summary>
public static class RawTensors
{
    /// <summary>Bytes per value of <paramref name="datatype"/>; 0 for a datatype not served.</summary>
    public static int ValueSize(string? datatype) => datatype switch
    {
        "FP32" => Fp32Bytes.Size,
        "FP16" => Fp16Bytes.Size,
        _ => 0,
    };

    /// <summary>
    /// Decodes, in place, <paramref name="values"/>' raw bytes as read from the wire into the start of
    /// its memory (its first <c>values.Length * ValueSize</c> bytes): a tensor read straight into its
    /// float array needs no byte buffer of its own. The same values as <see cref="Fp32Bytes.Read"/> and
    /// <see cref="Fp16Bytes.Read"/>.
    /// </summary>
    public static void DecodeInPlace(string? datatype, Span<float> values)
    {
        switch (ValueSize(datatype))
        {
            case Fp32Bytes.Size:
                Fp32Bytes.FromLittleEndian(values);
                break;
            case Fp16Bytes.Size:
                Fp16Bytes.WidenInPlace(values);
                break;
        }
    }
}
