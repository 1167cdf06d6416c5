using FsCheck;
using ShieldCluster.Protection.InputFilters;

namespace ShieldCluster.Protection.Tests.InputFilters;

public class MedianSqueezerTests
{
    private static readonly float[] Ramp3x3 =
    [
        1, 2, 3,
        4, 5, 6,
        7, 8, 9,
    ];

    // Each output is the mean of the middle two of {pixel, right, below, below-right}, the last row and column replicated.
    private static readonly float[] Ramp3x3Median2x2 =
    [
        3.0f, 4.0f, 4.5f,
        6.0f, 7.0f, 7.5f,
        7.5f, 8.5f, 9.0f,
    ];

    [Fact]
    public void Squeeze_2x2On3x3_GivesHandComputedMedians()
    {
        var output = Squeeze(new MedianSqueezer(1, 3, 3), Ramp3x3);
        Assert.Equal(Ramp3x3Median2x2, output);
    }

    [Fact]
    public void Squeeze_2x2On4x4_GivesHandComputedMedians()
    {
        float[] image =
        [
            0, 9, 1, 1,
            5, 2, 8, 0,
            3, 3, 7, 6,
            2, 4, 0, 9,
        ];
        float[] expected =
        [
            3.5f, 5.0f, 1.0f, 0.5f, // {0,9,5,2}: (2+5)/2; {9,1,2,8}: (2+8)/2; {1,1,8,0}: (1+1)/2; {1,1,0,0}: (0+1)/2
            3.0f, 5.0f, 6.5f, 3.0f, // {5,2,3,3}; {2,8,3,7}; {8,0,7,6}; {0,0,6,6}
            3.0f, 3.5f, 6.5f, 7.5f, // {3,3,2,4}; {3,7,4,0}; {7,6,0,9}; {6,6,9,9}
            3.0f, 2.0f, 4.5f, 9.0f, // {2,4,2,4}; {4,0,4,0}; {0,9,0,9}; {9,9,9,9}
        ];
        Assert.Equal(expected, Squeeze(new MedianSqueezer(1, 4, 4), image));
    }

    [Fact]
    public void Squeeze_ThreeChannels_SmoothsEachChannelOnItsOwn()
    {
        var flat = Enumerable.Repeat(0.5f, 9).ToArray();
        var reversed = Enumerable.Reverse(Ramp3x3).ToArray();
        float[] image = [.. Ramp3x3, .. flat, .. reversed];
        var output = Squeeze(new MedianSqueezer(3, 3, 3), image);
        Assert.Equal(Ramp3x3Median2x2, output[..9]);
        Assert.Equal(flat, output[9..18]);
        Assert.Equal(Squeeze(new MedianSqueezer(1, 3, 3), reversed), output[18..]);
    }

    [Fact]
    public void Squeeze_ConstantImage_IsUnchanged()
    {
        var image = Enumerable.Repeat(0.3f, 2 * 5 * 7).ToArray();
        Assert.Equal(image, Squeeze(new MedianSqueezer(2, 5, 7), image));
    }

    [Fact]
    public void Squeeze_SingleBrightPixelInFlatImage_IsRemoved()
    {
        var image = Enumerable.Repeat(0.2f, 6 * 6).ToArray();
        image[(2 * 6) + 3] = 1f;
        var output = Squeeze(new MedianSqueezer(1, 6, 6), image);
        Assert.All(output, v => Assert.Equal(0.2f, v));
    }

    [Fact]
    public void Squeeze_3x3Window_IsCentredWithReplicatedEdges()
    {
        var output = Squeeze(new MedianSqueezer(1, 3, 3, windowSize: 3), Ramp3x3);
        // Centre: median of 1..9. Corner (0,0): {1,1,2,1,1,2,4,4,5} -> 2. Corner (2,2): {5,6,6,8,9,9,8,9,9} -> 8.
        Assert.Equal(5f, output[4]);
        Assert.Equal(2f, output[0]);
        Assert.Equal(8f, output[8]);
    }

    [Fact]
    public void Squeeze_WindowOne_CopiesTheImage()
    {
        Assert.Equal(Ramp3x3, Squeeze(new MedianSqueezer(1, 3, 3, windowSize: 1), Ramp3x3));
    }

    [Fact]
    public void Squeeze_SingleRowAndSingleColumn_UseReplicatedNeighbours()
    {
        // One row: the lower neighbours are the row itself, so each output is the mean of a pixel and its right neighbour.
        Assert.Equal([1.5f, 2.5f, 3f], Squeeze(new MedianSqueezer(1, 1, 3), [1f, 2f, 3f]));
        Assert.Equal([1.5f, 2.5f, 3f], Squeeze(new MedianSqueezer(1, 3, 1), [1f, 2f, 3f]));
        Assert.Equal([7f], Squeeze(new MedianSqueezer(1, 1, 1), [7f]));
    }

    [Fact]
    public void Squeeze_WideImage_MatchesReference()
    {
        var random = new Random(5);
        var image = Enumerable.Range(0, 2 * 4 * 300).Select(_ => (float)random.NextDouble()).ToArray();
        Assert.Equal(ReferenceMedian(image, 2, 4, 300, 2), Squeeze(new MedianSqueezer(2, 4, 300), image));
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public void Squeeze_AnyImageAndWindow_MatchesNaiveSortingReference(PositiveInt channels, PositiveInt height, PositiveInt width, byte windowSeed, int seed)
    {
        var (c, h, w) = (1 + (channels.Get % 3), 1 + (height.Get % 9), 1 + (width.Get % 9));
        var window = 1 + (windowSeed % 5);
        var random = new Random(seed);
        var image = Enumerable.Range(0, c * h * w).Select(_ => random.Next(4) == 0 ? 0.5f : (float)random.NextDouble()).ToArray();
        Assert.Equal(ReferenceMedian(image, c, h, w, window), Squeeze(new MedianSqueezer(c, h, w, window), image));
    }

    [Fact]
    public void Name_StatesWindow()
    {
        Assert.Equal("median-2x2", new MedianSqueezer(1, 2, 2).Name);
        Assert.Equal("median-3x3", new MedianSqueezer(1, 2, 2, 3).Name);
    }

    [Fact]
    public void ForItemDims_ChannelsHeightWidthOrHeightWidth_BuildsMatchingSqueezer()
    {
        var rgb = MedianSqueezer.ForItemDims([3, 32, 30]);
        Assert.Equal((3, 32, 30, 2880), (rgb.Channels, rgb.Height, rgb.Width, rgb.ItemLength));
        var gray = MedianSqueezer.ForItemDims([28, 28], windowSize: 3);
        Assert.Equal((1, 28, 28, 3), (gray.Channels, gray.Height, gray.Width, gray.WindowSize));
    }

    [Theory]
    [InlineData(new long[] { 784 })]
    [InlineData(new long[] { 1, 1, 28, 28 })]
    [InlineData(new long[] { 1, 0, 28 })]
    [InlineData(new long[] { 1, -1, 28 })]
    public void ForItemDims_UnsupportedDims_Throws(long[] dims)
    {
        Assert.Throws<ArgumentException>(() => MedianSqueezer.ForItemDims(dims));
    }

    [Theory]
    [InlineData(0, 2, 2, 2)]
    [InlineData(1, 0, 2, 2)]
    [InlineData(1, 2, 0, 2)]
    [InlineData(1, 2, 2, 0)]
    [InlineData(1, 2, 2, 16)]
    public void Constructor_InvalidArguments_Throw(int channels, int height, int width, int window)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MedianSqueezer(channels, height, width, window));
    }

    [Fact]
    public void Squeeze_WrongLengthsOrOverlap_Throw()
    {
        var squeezer = new MedianSqueezer(1, 3, 3);
        Assert.Throws<ArgumentException>(() => squeezer.Squeeze(new float[8], new float[9]));
        Assert.Throws<ArgumentException>(() => squeezer.Squeeze(new float[9], new float[10]));
        var shared = new float[9];
        Assert.Throws<ArgumentException>(() => squeezer.Squeeze(shared, shared));
    }

    private static float[] Squeeze(MedianSqueezer squeezer, float[] image)
    {
        var output = new float[image.Length];
        squeezer.Squeeze(image, output);
        return output;
    }

    private static float[] ReferenceMedian(float[] image, int channels, int height, int width, int window)
    {
        var output = new float[image.Length];
        for (var c = 0; c < channels; c++)
        {
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    var values = new List<float>();
                    for (var dy = -(window - 1) / 2; dy <= window / 2; dy++)
                    {
                        for (var dx = -(window - 1) / 2; dx <= window / 2; dx++)
                        {
                            var yy = Math.Clamp(y + dy, 0, height - 1);
                            var xx = Math.Clamp(x + dx, 0, width - 1);
                            values.Add(image[(c * height * width) + (yy * width) + xx]);
                        }
                    }

                    values.Sort();
                    var n = values.Count;
                    output[(c * height * width) + (y * width) + x] = n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) * 0.5f;
                }
            }
        }

        return output;
    }
}
