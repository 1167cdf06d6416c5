using System.Numerics.Tensors;
using ShieldCluster.Protection.Numerics;

namespace ShieldCluster.Protection.Tests.Numerics;

/// <summary>
/// FP16 widening: every FP16 value bit for bit as <see cref="TensorPrimitives"/> widens it (NaN
/// payloads and signs included), and band sums bit for bit those of widening first.
/// </summary>
public class HalfWideningTests
{
    private static Half[] EveryHalf() => [.. Enumerable.Range(0, 65_536).Select(i => BitConverter.UInt16BitsToHalf((ushort)i))];

    [Fact]
    public void Widen_EveryHalf_BitForBitAsTensorPrimitives()
    {
        var halves = EveryHalf();
        var expected = new float[halves.Length];
        TensorPrimitives.ConvertToSingle(halves, expected);
        var actual = new float[halves.Length];

        HalfWidening.Widen(halves, actual);

        for (var i = 0; i < halves.Length; i++)
        {
            Assert.True(
                BitConverter.SingleToUInt32Bits(expected[i]) == BitConverter.SingleToUInt32Bits(actual[i]),
                $"0x{i:X4}: 0x{BitConverter.SingleToUInt32Bits(expected[i]):X8} expected, 0x{BitConverter.SingleToUInt32Bits(actual[i]):X8} widened");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(1_003)]
    public void Widen_LengthsOffTheVector_TailWidenedAsTheRest(int length)
    {
        // Values that take every path (subnormals, infinities, NaNs, negatives) land in the scalar tail too.
        var halves = EveryHalf().AsSpan(0xFC00 - (length / 2), length).ToArray();
        var expected = new float[length];
        TensorPrimitives.ConvertToSingle(halves, expected);
        var actual = new float[length + 3];
        actual.AsSpan().Fill(42f);

        HalfWidening.Widen(halves, actual);

        Assert.Equal(expected.Select(BitConverter.SingleToUInt32Bits), actual.Take(length).Select(BitConverter.SingleToUInt32Bits));
        Assert.All(actual.Skip(length), v => Assert.Equal(42f, v));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 224)]
    [InlineData(7, 7)]
    [InlineData(3, 33)]
    [InlineData(5, 70)]
    [InlineData(2, 2_000)]
    [InlineData(1, 40)]
    public void SumRows_BitForBitTheRowSumsOfTheWidenedBand(int rows, int width)
    {
        var random = new Random((rows * 10_000) + width);
        var band = new Half[rows * width];
        for (var i = 0; i < band.Length; i++)
        {
            // Mostly image values, with subnormals, negatives and large values mixed in.
            band[i] = (i % 11) switch
            {
                0 => BitConverter.UInt16BitsToHalf((ushort)random.Next(1, 0x400)),
                1 => (Half)(-random.NextSingle()),
                2 => (Half)(random.NextSingle() * 60_000f),
                _ => (Half)random.NextSingle(),
            };
        }

        var widened = new float[band.Length];
        TensorPrimitives.ConvertToSingle(band, widened);
        var expected = new float[width];
        for (var x = 0; x < width; x++)
        {
            var sum = widened[x];
            for (var r = 1; r < rows; r++)
            {
                sum += widened[(r * width) + x];
            }

            expected[x] = sum;
        }

        var actual = new float[width];
        HalfWidening.SumRows(band, rows, actual);

        Assert.Equal(expected.Select(BitConverter.SingleToUInt32Bits), actual.Select(BitConverter.SingleToUInt32Bits));
    }

    [Fact]
    public void WidenAndSumRows_ShortDestinationOrBand_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => HalfWidening.Widen(new Half[9], new float[8]));
        Assert.Throws<ArgumentException>(() => HalfWidening.SumRows(new Half[20], 3, new float[7]));
        Assert.Throws<ArgumentException>(() => HalfWidening.SumRows(new Half[20], 0, new float[7]));
    }
}
