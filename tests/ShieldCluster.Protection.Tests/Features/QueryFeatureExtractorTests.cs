using System.Numerics.Tensors;
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

    [Theory]
    [InlineData(3, 224, 224)]
    [InlineData(3, 299, 299)]
    [InlineData(2, 70, 33)]
    [InlineData(3, 100, 70)]
    [InlineData(1, 64, 64)]
    [InlineData(1, 1, 3000)]
    [InlineData(1, 28, 28)]
    public void Extract_IsBitForBitTheRowByRowDefinition(int channels, int height, int width)
    {
        // Cells and thumbnail feed the fingerprint and the detectors: the one-pass band sums and the
        // vectorised thumbnail must give exactly the floats and bytes of adding whole rows one after
        // another, summing each cell's columns with TensorPrimitives.Sum and quantising cell by cell.
        long[] dims = height == 1 ? [width] : channels == 1 ? [height, width] : [channels, height, width];
        var extractor = new QueryFeatureExtractor(dims, 0f, 1f);
        var random = new Random(height + width);
        var image = new float[channels * height * width];
        for (var i = 0; i < image.Length; i++)
        {
            image[i] = (random.NextSingle() * 1.2f) - 0.1f;
        }

        var cells = new float[extractor.ChannelCellsLength];
        var thumbnail = extractor.Extract(image, cells).Thumbnail;
        var (expectedCells, expectedThumbnail) = RowByRow(image, channels, height, width, 0f, 1f);

        Assert.Equal(expectedCells.Select(BitConverter.SingleToInt32Bits), cells.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expectedThumbnail, thumbnail);
    }

    [Fact]
    public void Extract_Thumbnail_RoundsTiesToEven_ClampsAndMapsNaNToZero_LikeTheScalarDefinition()
    {
        // 16x16 keeps every value as a cell; on the range 0-255 a value is its own grey level.
        var extractor = new QueryFeatureExtractor([16, 16], 0f, 255f);
        float[] special = [0.5f, 1.5f, 2.5f, 254.5f, -0.5f, 255.5f, 300f, -1e30f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f];
        var image = new float[256];
        for (var i = 0; i < image.Length; i++)
        {
            image[i] = special[i % special.Length] + (i / special.Length % 2);
        }

        var thumbnail = extractor.Extract(image).Thumbnail;

        Assert.Equal(RowByRow(image, 1, 16, 16, 0f, 255f).Thumbnail, thumbnail);
        Assert.Equal([0, 2, 2, 254, 0, 255, 255, 0, 0, 255, 0, 0], thumbnail.Take(special.Length));
    }

    /// <summary>The extractor's definition, written out plainly: whole rows added one after another, then each cell.</summary>
    private static (float[] Cells, byte[] Thumbnail) RowByRow(float[] image, int channels, int height, int width, float min, float max)
    {
        var block = height == 1 ? (int)Math.Ceiling(width / 1024.0) : (int)Math.Ceiling(Math.Max(height, width) / 32.0);
        var outHeight = (height + block - 1) / block;
        var outWidth = (width + block - 1) / block;
        var outPlane = outHeight * outWidth;
        var cells = new float[channels * outPlane];
        if (block == 1)
        {
            image.CopyTo(cells, 0);
        }
        else
        {
            var band = new float[width];
            for (var c = 0; c < channels; c++)
            {
                for (var cy = 0; cy < outHeight; cy++)
                {
                    var rows = Math.Min(block, height - (cy * block));
                    var first = (c * height * width) + (cy * block * width);
                    image.AsSpan(first, width).CopyTo(band);
                    for (var r = 1; r < rows; r++)
                    {
                        TensorPrimitives.Add(band, image.AsSpan(first + (r * width), width), band);
                    }

                    for (var cx = 0; cx < outWidth; cx++)
                    {
                        var columns = Math.Min(block, width - (cx * block));
                        var cell = (c * outPlane) + (cy * outWidth) + cx;
                        cells[cell] = TensorPrimitives.Sum(band.AsSpan(cx * block, columns)) * (1f / (rows * columns));
                    }
                }
            }
        }

        var scale = 255f / (max - min);
        var thumbnail = new byte[outPlane];
        for (var i = 0; i < outPlane; i++)
        {
            if (channels == 1)
            {
                thumbnail[i] = (byte)Math.Clamp(MathF.Round((cells[i] - min) * scale), 0f, 255f);
                continue;
            }

            var sum = 0f;
            for (var c = 0; c < channels; c++)
            {
                sum += cells[(c * outPlane) + i];
            }

            thumbnail[i] = (byte)Math.Clamp(MathF.Round(((sum * (1f / channels)) - min) * scale), 0f, 255f);
        }

        return (cells, thumbnail);
    }
}
