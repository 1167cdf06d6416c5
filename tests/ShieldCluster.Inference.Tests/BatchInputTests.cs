using System.Numerics.Tensors;
using ShieldCluster.Inference.Batching;

namespace ShieldCluster.Inference.Tests;

/// <summary>A batch's parts written as half precision: copied where a part came in half precision, converted otherwise.</summary>
public class BatchInputTests
{
    [Fact]
    public void ConvertTo_CopiesThePartsHalves_AndConvertsTheOthers()
    {
        float[] a = [0.25f, 0.5f, 1f];
        float[] b = [0.125f, 0.75f];
        float[] c = [0.3f, 0.6f];
        // Deliberately not a's values: what is written shows which was used.
        Half[] aHalves = [(Half)9f, (Half)8f, (Half)7f];
        Half[] tooShort = [(Half)5f];
        var input = new BatchInput([a, b, c], [aHalves, ReadOnlyMemory<Half>.Empty, tooShort]);

        var written = new Half[a.Length + b.Length + c.Length + 1];
        written[^1] = (Half)42f;
        input.ConvertTo(written);

        Assert.Equal(aHalves, written[..3]);
        Assert.Equal(b.Select(v => (Half)v), written[3..5]);
        Assert.Equal(c.Select(v => (Half)v), written[5..7]);
        Assert.Equal((Half)42f, written[^1]);
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
        new BatchInput([widened], [halves]).ConvertTo(copied);
        var converted = new Half[halves.Length];
        new BatchInput(widened).ConvertTo(converted);

        Assert.Equal(converted.Select(BitConverter.HalfToUInt16Bits), copied.Select(BitConverter.HalfToUInt16Bits));
    }

    [Fact]
    public void HalvesForSomeOtherNumberOfParts_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => new BatchInput([new float[2], new float[2]], [new Half[2]]));
    }
}
