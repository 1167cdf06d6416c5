using System.Buffers;
using System.Runtime.InteropServices;
using ShieldCluster.Server.Grpc;

namespace ShieldCluster.Server.Tests;

/// <summary>A <c>raw_input_contents</c> entry decoded: FP16 kept as it came beside its widened values; FP32 as is.</summary>
public class RawInputTests
{
    [Fact]
    public void Fp16Entry_KeepsItsHalves_NeverWidened()
    {
        Half[] halves = [(Half)0.5f, (Half)(-2f), Half.Epsilon, Half.MaxValue, (Half)0.3f];
        var bytes = MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();

        var raw = RawInput.Decode("FP16", new ReadOnlySequence<byte>(bytes));

        Assert.Equal(bytes.Length, raw.Length);
        Assert.Equal(halves.Select(BitConverter.HalfToUInt16Bits), raw.Halves!.Select(BitConverter.HalfToUInt16Bits));
        Assert.Null(raw.Values);
    }

    [Fact]
    public void Fp32Entry_HasNoHalves()
    {
        float[] values = [0.25f, 1f];
        var raw = RawInput.Decode("FP32", new ReadOnlySequence<byte>(MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));

        Assert.Null(raw.Halves);
        Assert.Equal(values, raw.Values);
    }
}
