using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using ShieldCluster.Protection.Features;

namespace ShieldCluster.Protection.Tests.Features;

/// <summary>
/// An FP16 item's features, taken without widening the item first: the cells and thumbnail are bit
/// for bit those of its widened values, and the digest is of its FP16 bytes.
/// </summary>
public class QueryFeatureExtractorHalfTests
{
    [Theory]
    [InlineData(3, 224, 224)]
    [InlineData(3, 100, 70)]
    [InlineData(1, 28, 28)]
    [InlineData(1, 1, 3000)]
    [InlineData(3, 600, 2000)]
    public void Extract_Fp16_SameCellsAndThumbnailAsTheWidenedItem_DigestOfItsBytes(int channels, int height, int width)
    {
        long[] dims = height == 1 ? [width] : channels == 1 ? [height, width] : [channels, height, width];
        var extractor = new QueryFeatureExtractor(dims, 0f, 1f);
        var random = new Random(height + width);
        var halves = new Half[channels * height * width];
        for (var i = 0; i < halves.Length; i++)
        {
            halves[i] = (Half)random.NextSingle();
        }

        var widened = new float[halves.Length];
        TensorPrimitives.ConvertToSingle(halves, widened);

        var fromFloats = new float[extractor.ChannelCellsLength];
        var expected = extractor.Extract(widened, fromFloats);
        var fromHalves = new float[extractor.ChannelCellsLength];
        var actual = extractor.Extract(halves, fromHalves);

        Assert.Equal(fromFloats.Select(BitConverter.SingleToInt32Bits), fromHalves.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expected.Thumbnail, actual.Thumbnail);
        Assert.Equal(XxHash3.HashToUInt64(MemoryMarshal.AsBytes(halves.AsSpan())), actual.Digest);
        Assert.NotEqual(expected.Digest, actual.Digest);
    }

    [Fact]
    public void Extract_Fp16_OneValueChanged_ChangesTheDigest()
    {
        var extractor = new QueryFeatureExtractor([3, 224, 224], 0f, 1f);
        var halves = new Half[3 * 224 * 224];
        halves.AsSpan().Fill((Half)0.5f);
        var cells = new float[extractor.ChannelCellsLength];
        var before = extractor.Extract(halves, cells).Digest;
        halves[12_345] = BitConverter.UInt16BitsToHalf((ushort)(BitConverter.HalfToUInt16Bits(halves[12_345]) + 1));

        Assert.NotEqual(before, extractor.Extract(halves, cells).Digest);
    }

    [Fact]
    public void Extract_Fp16_WrongLengthOrShortDestination_IsRefused()
    {
        var extractor = new QueryFeatureExtractor([3, 224, 224], 0f, 1f);
        Assert.Throws<ArgumentException>(() => extractor.Extract(new Half[10], new float[extractor.ChannelCellsLength]));
        Assert.Throws<ArgumentException>(() => extractor.Extract(new Half[3 * 224 * 224], new float[10]));
    }
}
