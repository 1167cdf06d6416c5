using ShieldCluster.Protection.Features;

namespace ShieldCluster.Protection.Tests.Features;

public class QueryFeatureExtractorTests
{
    private readonly QueryFeatureExtractor _extractor = new([1, 28, 28], 0f, 1f);

    [Fact]
    public void Extract_FashionMnistImage_Gives7x7Thumbnail()
    {
        Assert.Equal(49, _extractor.ThumbnailLength);
        Assert.Equal(49, _extractor.Extract(new float[784]).Thumbnail.Length);
    }

    [Fact]
    public void Extract_PoolsEachFourByFourBlockToItsMean()
    {
        var image = new float[784];
        // Top-left 4x4 block all ones; the block to its right half ones.
        for (var y = 0; y < 4; y++)
        {
            for (var x = 0; x < 4; x++)
            {
                image[(y * 28) + x] = 1f;
            }

            for (var x = 4; x < 8; x += 2)
            {
                image[(y * 28) + x] = 1f;
            }
        }

        var thumbnail = _extractor.Extract(image).Thumbnail;
        Assert.Equal(255, thumbnail[0]);
        Assert.Equal(128, thumbnail[1]);
        Assert.Equal(0, thumbnail[7]);
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
    public void Extract_VectorInput_PoolsIntoAtMost64Bins()
    {
        var extractor = new QueryFeatureExtractor([1000], -1f, 1f);
        var features = extractor.Extract(Enumerable.Repeat(1f, 1000).ToArray());
        Assert.True(features.Thumbnail.Length <= 64);
        Assert.All(features.Thumbnail, b => Assert.Equal(255, b));
    }
}
