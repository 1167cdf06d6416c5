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
}
