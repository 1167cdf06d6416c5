using ShieldCluster.Protection.Detectors;
using ShieldCluster.Protection.Features;
using ShieldCluster.Testing;

namespace ShieldCluster.Protection.Tests.Detectors;

public class LineSearchDetectorTests
{
    private static readonly BlacklightFingerprinter Fingerprinter = new(new BlacklightOptions(), new byte[32], 784);
    private static readonly QueryFeatureExtractor Extractor = new([1, 28, 28], 0f, 1f);

    private static QueryObservation Observation(float[] image, int label = 0)
    {
        var features = Extractor.Extract(image);
        return new QueryObservation(features.Digest, label, features.Thumbnail, Fingerprinter.Fingerprint(image, 0, 1));
    }

    private static float[] Train(int index) => FashionMnist.TrainSet.Images.AsSpan(index * 784, 784).ToArray();

    private static float[] Blend(float[] x, float[] other, float alpha) => [.. x.Select((v, i) => ((1 - alpha) * v) + (alpha * other[i]))];

    private static float[] Map(float[] x, Func<float, float> f) => [.. x.Select(v => Math.Clamp(f(v), 0f, 1f))];

    private static float[] Shift(float[] image, int dr, int dc)
    {
        var result = new float[784];
        for (var r = 0; r < 28; r++)
        {
            for (var c = 0; c < 28; c++)
            {
                var sr = r - dr;
                var sc = c - dc;
                result[(r * 28) + c] = sr is >= 0 and < 28 && sc is >= 0 and < 28 ? image[(sr * 28) + sc] : 0f;
            }
        }

        return result;
    }

    private static float[] Crop(float[] image, int margin)
    {
        // Zoom into the centre: crop the margin away and scale back to 28x28 (nearest neighbour).
        var side = 28 - (2 * margin);
        var result = new float[784];
        for (var r = 0; r < 28; r++)
        {
            for (var c = 0; c < 28; c++)
            {
                result[(r * 28) + c] = image[((margin + (r * side / 28)) * 28) + margin + (c * side / 28)];
            }
        }

        return result;
    }

    private static float[] Noise(float[] image, Random random, float sigma) =>
        [.. image.Select(v => MathF.Round(Math.Clamp(v + (sigma * (float)((random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5) * 2)), 0f, 1f) * 255f) / 255f)];

    /// <summary>
    /// HopSkipJump's opening as the red team's (and ART's) implementation sends it: the seed images,
    /// candidate starting images of other classes in one batch, then the binary search between the
    /// original and the first candidate towards a boundary at <paramref name="boundary"/>.
    /// </summary>
    private static IEnumerable<(float[] Image, string Phase)> HopSkipJumpOpening(int seed, float boundary)
    {
        var random = new Random(seed);
        var labels = FashionMnist.TrainSet.Labels;
        var seeds = Enumerable.Range(0, 4).Select(_ => random.Next(labels.Length)).ToArray();
        foreach (var s in seeds)
        {
            yield return (Train(s), "seed");
        }

        var original = Train(seeds[0]);
        var candidates = Enumerable.Range(0, 8).Select(_ => random.Next(labels.Length)).Where(i => labels[i] != labels[seeds[0]]).ToArray();
        foreach (var c in candidates)
        {
            yield return (Train(c), "init");
        }

        var start = Train(candidates[0]);
        float low = 0, high = 1;
        while (high - low > 1f / (784 * 28))
        {
            var mid = (low + high) / 2;
            yield return (Blend(original, start, mid), "search");
            if (mid > boundary)
            {
                high = mid;
            }
            else
            {
                low = mid;
            }
        }
    }

    [Theory]
    [InlineData(1, 0.3f)]
    [InlineData(2, 0.45f)]
    [InlineData(3, 0.6f)]
    [InlineData(4, 0.75f)]
    [InlineData(5, 0.52f)]
    public void HopSkipJumpOpening_EveryBinarySearchStepIsAHit_AlarmAtTheSecond(int seed, float boundary)
    {
        var detectors = new ClientDetectors(new DetectionOptions());
        var searchStep = 0;
        var alarmAt = -1;
        foreach (var (image, phase) in HopSkipJumpOpening(seed, boundary))
        {
            var before = detectors.Signals.LineSearchTotal;
            var signals = detectors.Observe(Observation(image));
            var hit = signals.LineSearchTotal > before;
            if (phase != "search")
            {
                Assert.False(hit, $"a natural {phase} image was a line-search hit");
                continue;
            }

            searchStep++;
            Assert.True(hit, $"binary-search step {searchStep} was no hit");
            if (signals.LineSearchAlarm && alarmAt < 0)
            {
                alarmAt = searchStep;
            }
        }

        Assert.Equal(2, alarmAt);
        var latest = detectors.Signals.LineSearchLatest!.Value;
        Assert.InRange(latest.ResidualRms, 0, 1.0);
        Assert.True(latest.SpanRms >= 16);
    }

    [Fact]
    public void FirstBinarySearchStep_LiesHalfwayBetweenTheOriginalAndTheStart()
    {
        var detector = new LineSearchDetector(new LineSearchOptions());
        var x = Train(10);
        var start = Train(11);
        Assert.Null(detector.Observe(QueryStreams.Features(x)));
        Assert.Null(detector.Observe(QueryStreams.Features(Train(12))));
        Assert.Null(detector.Observe(QueryStreams.Features(start)));
        var hit = detector.Observe(QueryStreams.Features(Blend(x, start, 0.5f)));
        Assert.NotNull(hit);
        Assert.Equal(3, hit.Value.OlderBack);
        Assert.Equal(1, hit.Value.NewerBack);
        Assert.InRange(hit.Value.T, 0.49, 0.51);
        Assert.InRange(hit.Value.ResidualRms, 0, 0.5);
        Assert.Equal(Math.Sqrt(FeatureDistance.SquaredL2(QueryStreams.Features(x), QueryStreams.Features(start)) / 784.0), hit.Value.SpanRms, 6);
    }

    [Theory]
    [InlineData(0.3, true)]
    [InlineData(0.8, true)]
    [InlineData(1.4, false)]
    [InlineData(6.0, false)]
    public void QueryOffTheLine_IsAHitOnlyWithinTheResidualTolerance(double offRms, bool expected)
    {
        // The midpoint of two images moved off their line by a random +-offRms pattern.
        var detector = new LineSearchDetector(new LineSearchOptions());
        var a = QueryStreams.Features(Train(20));
        var b = QueryStreams.Features(Train(21));
        detector.Observe(a);
        detector.Observe(b);
        var random = new Random(5);
        var q = new byte[784];
        for (var i = 0; i < 784; i++)
        {
            var mid = (a[i] + b[i]) / 2.0;
            var sign = mid < offRms ? 1 : mid > 255 - offRms ? -1 : random.Next(2) == 0 ? -1 : 1;
            q[i] = (byte)Math.Round(mid + (sign * offRms), MidpointRounding.AwayFromZero);
        }

        // The distance from the line, computed directly.
        double uv = 0, vv = 0, uu = 0;
        for (var i = 0; i < 784; i++)
        {
            double u = q[i] - a[i];
            double v = b[i] - a[i];
            uv += u * v;
            vv += v * v;
            uu += u * u;
        }

        var residualRms = Math.Sqrt((uu - (uv * uv / vv)) / 784);
        Assert.Equal(expected, residualRms <= new LineSearchOptions().MaxResidualRms);
        var hit = detector.Observe(q);
        Assert.Equal(expected, hit is not null);
        if (hit is { } found)
        {
            Assert.Equal(residualRms, found.ResidualRms, 6);
        }
    }

    [Fact]
    public void RadiusSearchAlongOneDirection_IsFound()
    {
        // GeoDA, Sign-OPT and RayS binary-search a radius r along a direction d: x + r d.
        var x = Train(30);
        var random = new Random(6);
        var direction = Enumerable.Range(0, 784).Select(_ => random.Next(2) == 0 ? -0.3f : 0.3f).ToArray();
        var detectors = new ClientDetectors(new DetectionOptions());
        detectors.Observe(Observation(x));
        float low = 0, high = 1;
        for (var step = 0; step < 8; step++)
        {
            var mid = (low + high) / 2;
            detectors.Observe(Observation([.. x.Select((v, i) => Math.Clamp(v + (mid * direction[i]), 0f, 1f))]));
            (low, high) = mid > 0.3f ? (low, mid) : (mid, high);
        }

        Assert.True(detectors.Signals.LineSearchTotal >= 5, $"{detectors.Signals.LineSearchTotal} hits");
        Assert.True(detectors.Signals.LineSearchAlarm);
    }

    [Theory]
    [InlineData(41)]
    [InlineData(42)]
    [InlineData(43)]
    public void HonestClient_WithRetriesEditsAndPopularImages_HasNoHit(int seed)
    {
        // Random test images, popular ones, retries, and every edit an honest client makes of its
        // pictures: shifts, crops, brightness scaling and additive brightness at several levels,
        // contrast and gamma, re-encoding noise; several edits of the same picture in a row.
        var random = new Random(seed);
        var (_, labels) = FashionMnist.TestSet;
        var popular = Enumerable.Range(0, 30).Select(_ => random.Next(labels.Length)).ToArray();
        var detectors = new ClientDetectors(new DetectionOptions());
        var sent = new List<int>();
        float[]? previous = null;
        Func<float[], float[]>[] edits =
        [
            x => Shift(x, 1, 0), x => Shift(x, 0, -1), x => Shift(x, 2, 1), x => Shift(x, -1, -2),
            x => Crop(x, 1), x => Crop(x, 2), x => Crop(x, 3),
            x => Map(x, v => v * 0.7f), x => Map(x, v => v * 0.85f), x => Map(x, v => v * 1.1f), x => Map(x, v => v * 1.25f), x => Map(x, v => v * 1.5f),
            x => Map(x, v => v + 0.05f), x => Map(x, v => v + 0.1f), x => Map(x, v => v - 0.05f), x => Map(x, v => v - 0.1f), x => Map(x, v => v + 0.2f),
            x => Map(x, v => ((v - 0.5f) * 1.3f) + 0.5f), x => Map(x, v => ((v - 0.5f) * 0.7f) + 0.5f), x => Map(x, v => MathF.Pow(v, 0.8f)), x => Map(x, v => MathF.Pow(v, 1.25f)),
            x => Noise(x, random, 0.01f), x => Noise(x, random, 0.02f), x => Noise(x, random, 0.04f),
        ];
        for (var q = 0; q < 2_000; q++)
        {
            var roll = random.NextDouble();
            float[] image;
            if (previous is not null && roll < 0.05)
            {
                image = previous;
            }
            else if (sent.Count > 0 && roll < 0.35)
            {
                // Bursts of edits of one recent picture.
                image = edits[random.Next(edits.Length)](FashionMnist.TestImage(sent[^(1 + random.Next(Math.Min(3, sent.Count)))]));
            }
            else
            {
                var index = roll < 0.45 ? popular[random.Next(popular.Length)] : random.Next(labels.Length);
                sent.Add(index);
                image = FashionMnist.TestImage(index);
            }

            previous = image;
            var signals = detectors.Observe(Observation(image));
            Assert.True(signals.LineSearchTotal == 0, $"honest query {q + 1} was a line-search hit: {signals.LineSearchLatest}");
        }

        Assert.True(detectors.Signals.Retries > 50);
        Assert.True(detectors.Signals.NearDuplicates > 10);
    }

    [Theory]
    [InlineData(51)]
    [InlineData(52)]
    public void BrightnessSweepOfOneImage_IsNoHit(int seed)
    {
        // Scaled, offset, contrast and gamma versions of one image lie (nearly) on lines through
        // each other; none is a boundary walk.
        var image = FashionMnist.TestImage(seed);
        var detector = new LineSearchDetector(new LineSearchOptions());
        var levels = new[] { 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.1f, 1.2f, 1.3f, 1.5f, 1.8f };
        var hits = 0;
        foreach (var level in levels)
        {
            hits += detector.Observe(QueryStreams.Features(Map(image, v => v * level))) is null ? 0 : 1;
        }

        foreach (var level in levels)
        {
            hits += detector.Observe(QueryStreams.Features(Map(image, v => v + ((level - 1) / 2)))) is null ? 0 : 1;
            hits += detector.Observe(QueryStreams.Features(Map(image, v => ((v - 0.5f) * level) + 0.5f))) is null ? 0 : 1;
            hits += detector.Observe(QueryStreams.Features(Map(image, v => MathF.Pow(v, level)))) is null ? 0 : 1;
        }

        Assert.Equal(0, hits);
    }

    [Fact]
    public void BrightnessSweep_WithoutTheBrightnessTest_WouldBeHits()
    {
        // The brightness test is what keeps the sweep above quiet: without it, scalings are collinear.
        var image = FashionMnist.TestImage(51);
        var detector = new LineSearchDetector(new LineSearchOptions { MinUnexplainedShare = 0 });
        var hits = new[] { 0.2f, 0.5f, 0.8f, 0.35f, 0.65f }.Count(level => detector.Observe(QueryStreams.Features(Map(image, v => v * level))) is not null);
        Assert.True(hits >= 2, $"{hits} hits");
    }

    [Fact]
    public void Gram_MatchesDirectDotProducts_AfterTheMemoryWrapsAround()
    {
        var options = new LineSearchOptions { Memory = 7 };
        var detector = new LineSearchDetector(options);
        var random = new Random(8);
        for (var n = 0; n < 30; n++)
        {
            var features = QueryStreams.Features(FashionMnist.TestImage(random.Next(10_000)));
            detector.Observe(features, keep: n % 5 != 4);
            for (var i = 0; i < options.Memory; i++)
            {
                for (var j = 0; j < options.Memory; j++)
                {
                    if (detector.Input(i) is { } a && detector.Input(j) is { } b)
                    {
                        long expected = 0;
                        for (var k = 0; k < a.Length; k++)
                        {
                            expected += a[k] * b[k];
                        }

                        Assert.Equal(expected, detector.Gram(i, j));
                    }
                }
            }
        }

        Assert.Equal(7, detector.Kept);
    }

    [Fact]
    public void RetriesAndNearDuplicates_DoNotMoveTheEnds()
    {
        // A re-encoded near-duplicate is tested but not kept, so an attacker padding with
        // re-encodings does not push the line's ends out of the memory.
        var detectors = new ClientDetectors(new DetectionOptions { LineSearch = new LineSearchOptions { Memory = 3 } });
        var x = Train(60);
        var start = Train(61);
        detectors.Observe(Observation(x));
        detectors.Observe(Observation(start));
        var random = new Random(9);
        for (var i = 0; i < 10; i++)
        {
            detectors.Observe(Observation(Noise(start, random, 0.005f)));
            detectors.Observe(Observation(start)); // a retry
        }

        var signals = detectors.Observe(Observation(Blend(x, start, 0.5f)));
        Assert.Equal(1, signals.LineSearchTotal);
        Assert.Equal(1, signals.LineSearchHits);
        Assert.False(signals.LineSearchAlarm);
    }

    [Fact]
    public void Options_OutOfRange_Throw()
    {
        Assert.Throws<ArgumentException>(() => new LineSearchDetector(new LineSearchOptions { Memory = 1 }));
        Assert.Throws<ArgumentException>(() => new LineSearchDetector(new LineSearchOptions { MinSpanRms = 0 }));
        Assert.Throws<ArgumentException>(() => new LineSearchDetector(new LineSearchOptions { MinUnexplainedShare = 2 }));
    }
}
