using ShieldCluster.Protection.InputFilters;

namespace ShieldCluster.Protection.Tests.InputFilters;

public class FeatureSqueezingDetectorTests
{
    [Fact]
    public void Score_IdenticalOutputs_IsZero()
    {
        float[] output = [0.7f, 0.2f, 0.1f];
        Assert.Equal(0f, FeatureSqueezingDetector.Score(output, [.. output, .. output], 3));
    }

    [Fact]
    public void Score_KnownVectors_GivesHandComputedL1()
    {
        // |0.7-0.5| + |0.2-0.3| + |0.1-0.2| = 0.4
        Assert.Equal(0.4f, FeatureSqueezingDetector.Score([0.7f, 0.2f, 0.1f], [0.5f, 0.3f, 0.2f], 3), 1e-6f);
    }

    [Fact]
    public void Score_SeveralSqueezedCopies_TakesTheLargestDistance()
    {
        float[] squeezed =
        [
            0.7f, 0.2f, 0.1f, // distance 0
            0.1f, 0.2f, 0.7f, // distance 1.2
            0.5f, 0.3f, 0.2f, // distance 0.4
        ];
        Assert.Equal(1.2f, FeatureSqueezingDetector.Score([0.7f, 0.2f, 0.1f], squeezed, 3), 1e-6f);
    }

    [Fact]
    public void Score_OppositeOneHotVectors_IsTwo()
    {
        Assert.Equal(2f, FeatureSqueezingDetector.Score([1f, 0f], [0f, 1f], 2));
    }

    [Fact]
    public void Score_ThousandClasses_SumsEveryDifference()
    {
        var original = Enumerable.Repeat(0.001f, 1000).ToArray();
        var squeezed = (float[])original.Clone();
        squeezed[0] = 0.0015f;
        squeezed[999] = 0.0005f;
        Assert.Equal(0.001f, FeatureSqueezingDetector.Score(original, squeezed, 1000), 1e-6f);
    }

    [Fact]
    public void Score_NaNInSqueezedOutput_IsInfinite()
    {
        Assert.Equal(float.PositiveInfinity, FeatureSqueezingDetector.Score([0.5f, 0.5f], [0.5f, 0.5f, float.NaN, 0.5f], 2));
    }

    [Fact]
    public void Score_InvalidShapes_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FeatureSqueezingDetector.Score([], [], 0));
        Assert.Throws<ArgumentException>(() => FeatureSqueezingDetector.Score([0.5f], [0.5f, 0.5f], 2));
        Assert.Throws<ArgumentException>(() => FeatureSqueezingDetector.Score([0.5f, 0.5f], [], 2));
        Assert.Throws<ArgumentException>(() => FeatureSqueezingDetector.Score([0.5f, 0.5f], [0.5f, 0.5f, 1f], 2));
    }

    [Fact]
    public void CalibrateThreshold_HundredScoresAtFivePercent_LeavesExactlyFiveAbove()
    {
        var scores = Enumerable.Range(1, 100).Select(i => i / 100f).OrderBy(s => (s * 7919) % 1).ToList();
        var threshold = FeatureSqueezingDetector.CalibrateThreshold(scores, 0.05);
        Assert.Equal(0.95f, threshold);
        Assert.Equal(5, scores.Count(s => FeatureSqueezingDetector.IsAdversarial(s, threshold)));
    }

    [Fact]
    public void CalibrateThreshold_RateWhoseProductIsNotExactInBinary_StillAllowsFullCount()
    {
        // 0.29 * 100 is 28.999999999999996 in double arithmetic.
        var scores = Enumerable.Range(1, 100).Select(i => i / 100f).ToList();
        var threshold = FeatureSqueezingDetector.CalibrateThreshold(scores, 0.29);
        Assert.Equal(29, scores.Count(s => s > threshold));
    }

    [Fact]
    public void CalibrateThreshold_RateBelowOneScore_GivesTheMaximum()
    {
        var scores = Enumerable.Range(1, 100).Select(i => i / 100f).ToList();
        Assert.Equal(1f, FeatureSqueezingDetector.CalibrateThreshold(scores, 0.001));
    }

    [Fact]
    public void CalibrateThreshold_TiedScores_NeverPutsTiesAbove()
    {
        var scores = Enumerable.Repeat(0.3f, 50).Concat(Enumerable.Repeat(0.9f, 50)).ToList();
        var threshold = FeatureSqueezingDetector.CalibrateThreshold(scores, 0.1);
        Assert.Equal(0.9f, threshold);
        Assert.Equal(0, scores.Count(s => s > threshold));
    }

    [Fact]
    public void CalibrateThreshold_RateJustBelowOne_StaysInsideTheScores()
    {
        Assert.Equal(0.4f, FeatureSqueezingDetector.CalibrateThreshold([0.4f], 0.9999999999999));
        Assert.Equal(0.1f, FeatureSqueezingDetector.CalibrateThreshold([0.3f, 0.1f, 0.2f], 0.9999999999999));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void CalibrateThreshold_RateOutsideOpenUnitInterval_Throws(double rate)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FeatureSqueezingDetector.CalibrateThreshold([0.1f, 0.2f], rate));
    }

    [Fact]
    public void CalibrateThreshold_NoScoresOrNaNScore_Throws()
    {
        Assert.Throws<ArgumentException>(() => FeatureSqueezingDetector.CalibrateThreshold([], 0.05));
        Assert.Throws<ArgumentException>(() => FeatureSqueezingDetector.CalibrateThreshold([0.1f, float.NaN], 0.05));
        Assert.Throws<ArgumentNullException>(() => FeatureSqueezingDetector.CalibrateThreshold(null!, 0.05));
    }

    [Theory]
    [InlineData(0.51f, 0.5f, true)]
    [InlineData(0.5f, 0.5f, false)]
    [InlineData(0.49f, 0.5f, false)]
    [InlineData(float.PositiveInfinity, 0.5f, true)]
    public void IsAdversarial_FlagsOnlyScoresStrictlyAboveThreshold(float score, float threshold, bool expected)
    {
        Assert.Equal(expected, FeatureSqueezingDetector.IsAdversarial(score, threshold));
    }

    [Fact]
    public void WriteBatch_TwoSqueezers_LaysOutOriginalThenEachSqueezedCopy()
    {
        float[] item = [0.25f, 0.75f, 0.5f, 1f];
        ISqueezer[] squeezers = [new BitDepthSqueezer(1), new MedianSqueezer(1, 2, 2)];
        var batch = new float[item.Length * 3];
        FeatureSqueezingDetector.WriteBatch(item, squeezers, batch);
        Assert.Equal(item, batch[..4]);
        Assert.Equal([0f, 1f, 1f, 1f], batch[4..8]);
        // {0.25,0.75,0.5,1} -> (0.5+0.75)/2; {0.75,0.75,1,1} -> (0.75+1)/2; the bottom row is its own lower neighbour.
        Assert.Equal([0.625f, 0.875f, 0.75f, 1f], batch[8..]);
    }

    [Fact]
    public void WriteBatch_WrongDestinationLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => FeatureSqueezingDetector.WriteBatch(new float[4], [new BitDepthSqueezer(1)], new float[4]));
    }

    [Fact]
    public void EndToEnd_CheckerboardPerturbation_IsFlaggedWhileSmoothImagesPass()
    {
        // A toy model that reads only the checkerboard pattern: smooth images score ~0, the
        // perturbation flips its prediction, and median smoothing erases the perturbation.
        const int side = 8;
        ISqueezer[] squeezers = [new BitDepthSqueezer(8), new MedianSqueezer(1, side, side)];
        var random = new Random(11);
        var benign = new List<float>();
        for (var n = 0; n < 40; n++)
        {
            benign.Add(ScoreOf(SmoothImage(random), squeezers));
        }

        var threshold = FeatureSqueezingDetector.CalibrateThreshold(benign, 0.05);
        Assert.True(benign.Count(s => FeatureSqueezingDetector.IsAdversarial(s, threshold)) <= 2);

        var adversarial = SmoothImage(random);
        for (var i = 0; i < adversarial.Length; i++)
        {
            adversarial[i] += ((i / side) + (i % side)) % 2 == 0 ? 0.05f : -0.05f;
        }

        var score = ScoreOf(adversarial, squeezers);
        Assert.True(score > 0.5f, $"score {score}");
        Assert.True(FeatureSqueezingDetector.IsAdversarial(score, threshold));

        static float[] SmoothImage(Random random)
        {
            var (a, b, c) = (0.3f + (0.2f * random.NextSingle()), 0.01f * random.NextSingle(), 0.01f * random.NextSingle());
            return Enumerable.Range(0, side * side).Select(i => a + (b * (i / side)) + (c * (i % side))).ToArray();
        }

        static float ScoreOf(float[] item, ISqueezer[] squeezers)
        {
            var batch = new float[item.Length * (1 + squeezers.Length)];
            FeatureSqueezingDetector.WriteBatch(item, squeezers, batch);
            var outputs = new float[2 * (1 + squeezers.Length)];
            for (var copy = 0; copy <= squeezers.Length; copy++)
            {
                Model(batch.AsSpan(copy * item.Length, item.Length), outputs.AsSpan(copy * 2, 2));
            }

            return FeatureSqueezingDetector.Score(outputs.AsSpan(0, 2), outputs.AsSpan(2), 2);
        }

        static void Model(ReadOnlySpan<float> image, Span<float> probabilities)
        {
            var checkerboard = 0f;
            for (var i = 0; i < image.Length; i++)
            {
                checkerboard += ((i / side) + (i % side)) % 2 == 0 ? image[i] : -image[i];
            }

            var logit = 5f * checkerboard;
            probabilities[1] = 1f / (1f + MathF.Exp(-logit));
            probabilities[0] = 1f - probabilities[1];
        }
    }
}
