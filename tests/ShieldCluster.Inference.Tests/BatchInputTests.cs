using System.Numerics.Tensors;
using ShieldCluster.Inference.Batching;

namespace ShieldCluster.Inference.Tests;

/// <summary>
/// A batch's parts, each in FP32 or in half precision as it came: written as half precision, a half
/// part is copied and an FP32 part converted; written as FP32, a half part is widened.
/// </summary>
public class BatchInputTests
{
    private static readonly float[] B = [0.125f, 0.75f];
    private static readonly float[] C = [0.3f, 0.6f];
    private static readonly Half[] AHalves = [(Half)9f, (Half)0.1f, (Half)7f];

    private static BatchInput Mixed() => new([ReadOnlyMemory<float>.Empty, B, C], [AHalves, ReadOnlyMemory<Half>.Empty, ReadOnlyMemory<Half>.Empty]);

    [Fact]
    public void ConvertTo_CopiesHalfParts_AndConvertsTheOthers()
    {
        var input = Mixed();
        Assert.Equal(7, input.Length);

        var written = new Half[input.Length + 1];
        written[^1] = (Half)42f;
        input.ConvertTo(written);

        Assert.Equal(AHalves, written[..3]);
        Assert.Equal(B.Select(v => (Half)v), written[3..5]);
        Assert.Equal(C.Select(v => (Half)v), written[5..7]);
        Assert.Equal((Half)42f, written[^1]);
    }

    [Fact]
    public void CopyTo_WidensHalfParts_AndCopiesTheOthers()
    {
        var input = Mixed();
        var written = new float[input.Length];
        input.CopyTo(written);

        Assert.Equal(AHalves.Select(h => (float)h), written[..3]);
        Assert.Equal(B, written[3..5]);
        Assert.Equal(C, written[5..7]);
        Assert.Equal(written, input.ToArray());
    }

    [Fact]
    public void TryGetSingle_OnlyForOneFp32Part()
    {
        Assert.True(new BatchInput(B).TryGetSingle(out var single));
        Assert.Equal(B, single.ToArray());
        Assert.False(new BatchInput([ReadOnlyMemory<float>.Empty], [AHalves]).TryGetSingle(out _));
        Assert.Equal(AHalves.Select(h => (float)h), new BatchInput([ReadOnlyMemory<float>.Empty], [AHalves]).ToArray());
    }

    [Fact]
    public void HalvesAsTheyCame_AreTheBitsConvertingTheirWidenedValuesGives()
    {
        // Every finite binary16 value (and the infinities): widened, then narrowed, it is itself,
        // so copying a request's halves writes what converting its floats would.
        var halves = Enumerable.Range(0, 1 << 16).Select(i => BitConverter.UInt16BitsToHalf((ushort)i)).Where(h => !Half.IsNaN(h)).ToArray();
        var widened = new float[halves.Length];
        TensorPrimitives.ConvertToSingle(halves, widened);

        var copied = new Half[halves.Length];
        new BatchInput([ReadOnlyMemory<float>.Empty], [halves]).ConvertTo(copied);
        var converted = new Half[halves.Length];
        new BatchInput(widened).ConvertTo(converted);

        Assert.Equal(converted.Select(BitConverter.HalfToUInt16Bits), copied.Select(BitConverter.HalfToUInt16Bits));
    }

    [Fact]
    public void HalvesForSomeOtherNumberOfParts_OrAPartInBothPrecisions_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => new BatchInput([new float[2], new float[2]], [new Half[2]]));
        Assert.Throws<ArgumentException>(() => new BatchInput([new float[2]], [new Half[2]]));
    }
}
