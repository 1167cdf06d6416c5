using FsCheck;
using ShieldCluster.Protection.InputFilters;

namespace ShieldCluster.Protection.Tests.InputFilters;

public class BitDepthSqueezerTests
{
    [Fact]
    public void Squeeze_OneBit_SendsBelowHalfToZeroAndHalfOrAboveToOne()
    {
        var squeezer = new BitDepthSqueezer(1);
        float[] item = [0f, 0.2f, 0.4999f, 0.5f, 0.5001f, 0.9f, 1f];
        var output = new float[item.Length];
        squeezer.Squeeze(item, output);
        Assert.Equal([0f, 0f, 0f, 1f, 1f, 1f, 1f], output);
    }

    [Fact]
    public void Squeeze_EightBit_LeavesValuesOnThe255GridUnchanged()
    {
        var squeezer = new BitDepthSqueezer(8);
        var item = Enumerable.Range(0, 256).Select(k => k / 255f).ToArray();
        var output = new float[item.Length];
        squeezer.Squeeze(item, output);
        Assert.Equal(item, output);
    }

    [Fact]
    public void Squeeze_EightBit_MovesOffGridValuesToNearestLevel()
    {
        var squeezer = new BitDepthSqueezer(8);
        float[] item = [0.21f, 0.001f, 0.999f];
        var output = new float[item.Length];
        squeezer.Squeeze(item, output);
        // 0.21 * 255 = 53.55 -> 54; 0.001 * 255 = 0.255 -> 0; 0.999 * 255 = 254.745 -> 255.
        Assert.Equal([54 / 255f, 0f, 1f], output);
    }

    [Fact]
    public void Squeeze_RangeZeroTo255_OneBitSplitsAtMiddleOfRange()
    {
        var squeezer = new BitDepthSqueezer(1, 0f, 255f);
        float[] item = [0f, 100f, 127.4f, 127.5f, 200f, 255f];
        var output = new float[item.Length];
        squeezer.Squeeze(item, output);
        Assert.Equal([0f, 0f, 0f, 255f, 255f, 255f], output);
    }

    [Fact]
    public void Squeeze_RangeMinusOneToOne_TwoBitsGiveFourLevels()
    {
        // Levels -1, -1/3, 1/3, 1. 0 lies exactly between -1/3 and 1/3 and goes up (away from zero).
        var squeezer = new BitDepthSqueezer(2, -1f, 1f);
        float[] item = [-0.9f, -0.5f, 0f, 0.5f, 0.9f];
        var output = new float[item.Length];
        squeezer.Squeeze(item, output);
        float[] expected = [-1f, -1f / 3f, 1f / 3f, 1f / 3f, 1f];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], output[i], 1e-6f);
        }
    }

    [Fact]
    public void Squeeze_ValuesOutsideRange_AreClampedToTheRange()
    {
        var squeezer = new BitDepthSqueezer(8, 0f, 1f);
        float[] item = [-0.5f, 1.5f];
        var output = new float[item.Length];
        squeezer.Squeeze(item, output);
        Assert.Equal([0f, 1f], output);
    }

    [Fact]
    public void Squeeze_DestinationIsTheItem_WorksInPlace()
    {
        var squeezer = new BitDepthSqueezer(1);
        float[] item = [0.3f, 0.7f];
        squeezer.Squeeze(item, item);
        Assert.Equal([0f, 1f], item);
    }

    [Fact]
    public void Squeeze_WrongDestinationLength_Throws()
    {
        var squeezer = new BitDepthSqueezer(4);
        Assert.Throws<ArgumentException>(() => squeezer.Squeeze(new float[3], new float[2]));
    }

    [Fact]
    public void Name_StatesBits()
    {
        Assert.Equal("bit-depth-5", new BitDepthSqueezer(5).Name);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(25)]
    public void Constructor_BitsOutOfRange_Throws(int bits)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BitDepthSqueezer(bits));
    }

    [Theory]
    [InlineData(1f, 1f)]
    [InlineData(1f, 0f)]
    [InlineData(float.NaN, 1f)]
    [InlineData(0f, float.PositiveInfinity)]
    [InlineData(-3e38f, 3e38f)]
    public void Constructor_InvalidRange_Throws(float min, float max)
    {
        Assert.Throws<ArgumentException>(() => new BitDepthSqueezer(8, min, max));
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public void Squeeze_AnyValues_IsIdempotentOnTheGridAndInsideRange(NonEmptyArray<int> raw, byte bitsSeed, bool shiftedRange)
    {
        var bits = 1 + (bitsSeed % 8);
        var (min, max) = shiftedRange ? (-2f, 6f) : (0f, 1f);
        var squeezer = new BitDepthSqueezer(bits, min, max);
        // Values spread over and a little beyond the range.
        var item = raw.Get.Select(r => min - 0.5f + ((max - min + 1f) * ((r & 0xFFFF) / 65535f))).ToArray();
        var once = new float[item.Length];
        var twice = new float[item.Length];
        squeezer.Squeeze(item, once);
        squeezer.Squeeze(once, twice);
        var levels = (1 << bits) - 1;
        Assert.Equal(once, twice);
        Assert.All(once, v =>
        {
            Assert.InRange(v, min, max);
            var level = (v - min) / (max - min) * levels;
            Assert.InRange(Math.Abs(level - MathF.Round(level)), 0f, 1e-4f);
        });
    }
}
