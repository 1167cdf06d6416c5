using ShieldCluster.Protection.Features;

namespace ShieldCluster.Protection.Tests.Features;

public class QueryFeatureExtractorTests
{
    private readonly QueryFeatureExtractor _extractor = new([1, 28, 28], 0f, 1f);

    [Fact]
    public void Extract_FashionMnistImage_KeepsFullResolutionAsBytes()
    {
        Assert.Equal(784, _extractor.ThumbnailLength);
        var image = new float[784];
        image[0] = 1f;
        image[1] = 0.5f;
        var thumbnail = _extractor.Extract(image).Thumbnail;
        Assert.Equal(784, thumbnail.Length);
        Assert.Equal(255, thumbnail[0]);
        Assert.Equal(128, thumbnail[1]);
        Assert.Equal(0, thumbnail[2]);
    }

    [Fact]
    public void Extract_LargeRgbImage_PoolsBlocksAndChannelsToTheirMean()
    {
        // 3x64x64: blocks of 2x2 pixels over 3 channels become one of 32x32 cells.
        var extractor = new QueryFeatureExtractor([3, 64, 64], 0f, 1f);
        Assert.Equal(32 * 32, extractor.ThumbnailLength);
        var image = new float[3 * 64 * 64];
        // Cell (0,0): only the red channel's four pixels are 1 -> mean 4/12.
        image[0] = image[1] = image[64] = image[65] = 1f;
        var thumbnail = extractor.Extract(image).Thumbnail;
        Assert.Equal(85, thumbnail[0]);
        Assert.Equal(0, thumbnail[1]);
    }

    [Fact]
    public void Extract_IdenticalInputs_ShareDigest_AnyChangeAltersIt()
    {
        var a = Enumerable.Range(0, 784).Select(i => (i % 7) / 7f).ToArray();
        var b = (float[])a.Clone();
        Assert.Equal(_extractor.Extract(a).Digest, _extractor.Extract(b).Digest);
        b[400] += 1e-6f;
        Assert.NotEqual(_extractor.Extract(a).Digest, _extractor.Extract(b).Digest);
    }

    [Fact]
    public void Extract_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => _extractor.Extract(new float[783]));
    }

    [Fact]
    public void Extract_VectorInput_PoolsIntoAtMost1024Bins()
    {
        var extractor = new QueryFeatureExtractor([3000], -1f, 1f);
        var features = extractor.Extract(Enumerable.Repeat(1f, 3000).ToArray());
        Assert.True(features.Thumbnail.Length <= 1024);
        Assert.All(features.Thumbnail, b => Assert.Equal(255, b));
    }

    [Fact]
    public void Extract_ImageNetSizedImage_WritesPerChannelBlockMeans_AndReducesForFingerprint()
    {
        var extractor = new QueryFeatureExtractor([3, 224, 224], 0f, 1f);
        Assert.True(extractor.ReducesForFingerprint);
        Assert.Equal(3 * 32 * 32, extractor.ChannelCellsLength);
        var image = new float[3 * 224 * 224];
        Array.Fill(image, 0.5f);
        // Channel 2, cell (row 3, column 4) = pixels 21-27 x 28-34: values 0..48 / 48, mean 0.5 + 0; make it 49 distinct values averaging 0.25.
        for (var dy = 0; dy < 7; dy++)
        {
            for (var dx = 0; dx < 7; dx++)
            {
                image[(2 * 224 * 224) + ((21 + dy) * 224) + 28 + dx] = ((dy * 7) + dx) / 96f;
            }
        }

        var cells = new float[extractor.ChannelCellsLength];
        var features = extractor.Extract(image, cells);
        var index = (2 * 32 * 32) + (3 * 32) + 4;
        Assert.Equal(0.25f, cells[index], 5);
        Assert.All(cells.Where((_, i) => i != index), v => Assert.Equal(0.5f, v, 5));
        // The grey thumbnail averages the channels: (0.5 + 0.5 + 0.25) / 3 of 255.
        Assert.Equal((byte)Math.Round(255 * 1.25 / 3), features.Thumbnail[(3 * 32) + 4]);
        Assert.Equal(128, features.Thumbnail[0]);
    }

    [Fact]
    public void Extract_SmallImages_AreFingerprintedWhole()
    {
        Assert.False(_extractor.ReducesForFingerprint);
        Assert.False(new QueryFeatureExtractor([3, 64, 64], 0f, 1f).ReducesForFingerprint);
    }

    [Theory]
    [InlineData(3, 224, 224)]
    [InlineData(3, 100, 70)]
    [InlineData(1, 28, 28)]
    [InlineData(1, 1, 3000)]
    public void Extract_MatchesThePerValueDefinition(int channels, int height, int width)
    {
        // The extractor sums rows column-wise a band at a time; the cells must be the plain block
        // means (uneven edge blocks included) and the thumbnail their channel average.
        long[] dims = height == 1 ? [width] : channels == 1 ? [height, width] : [channels, height, width];
        var extractor = new QueryFeatureExtractor(dims, 0f, 1f);
        var random = new Random(5);
        var image = new float[channels * height * width];
        for (var i = 0; i < image.Length; i++)
        {
            image[i] = random.Next(256) / 255f;
        }

        var block = height == 1 ? (int)Math.Ceiling(width / 1024.0) : (int)Math.Ceiling(Math.Max(height, width) / 32.0);
        var outHeight = (height + block - 1) / block;
        var outWidth = (width + block - 1) / block;
        var expected = new double[channels * outHeight * outWidth];
        var counts = new int[outHeight * outWidth];
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    var cell = ((y / block) * outWidth) + (x / block);
                    expected[(c * outHeight * outWidth) + cell] += image[(c * height * width) + (y * width) + x];
                    counts[cell] += c == 0 ? 1 : 0;
                }
            }
        }

        var cells = new float[extractor.ChannelCellsLength];
        var features = extractor.Extract(image, cells);
        Assert.Equal(expected.Length, extractor.ChannelCellsLength);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i] / counts[i % counts.Length], cells[i], 4);
        }

        for (var i = 0; i < counts.Length; i++)
        {
            var grey = 0.0;
            for (var c = 0; c < channels; c++)
            {
                grey += expected[(c * counts.Length) + i] / counts[i];
            }

            Assert.InRange(features.Thumbnail[i], Math.Round(255 * grey / channels) - 1, Math.Round(255 * grey / channels) + 1);
        }
    }
}
