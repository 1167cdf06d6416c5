using ShieldCluster.Protection.Detectors;
using ShieldCluster.Protection.Features;
using ShieldCluster.Testing;

namespace ShieldCluster.Protection.Tests.Detectors;

public class ClientDetectorsTests
{
    private static readonly BlacklightFingerprinter Fingerprinter = new(new BlacklightOptions(), new byte[32], 784);
    private static readonly QueryFeatureExtractor Extractor = new([1, 28, 28], 0f, 1f);

    private static QueryObservation Observation(float[] image, int label)
    {
        var features = Extractor.Extract(image);
        return new QueryObservation(features.Digest, label, features.Thumbnail, Fingerprinter.Fingerprint(image, 0, 1));
    }

    /// <summary>Honest traffic as DETECTION.md describes it: random test images, retries, near-duplicates.</summary>
    private static IEnumerable<(float[] Image, int Label)> HonestClient(int count, int seed)
    {
        var random = new Random(seed);
        var (_, labels) = FashionMnist.TestSet;
        float[]? previous = null;
        var previousLabel = 0;
        for (var i = 0; i < count; i++)
        {
            var roll = random.NextDouble();
            if (previous is not null && roll < 0.05)
            {
                yield return (previous, previousLabel); // a retry
                continue;
            }

            if (previous is not null && roll < 0.08)
            {
                // A near-duplicate: the same picture, a little brighter, or shifted by one pixel.
                var near = random.Next(2) == 0
                    ? previous.Select(v => Math.Clamp(v * 1.1f, 0f, 1f)).ToArray()
                    : previous.Skip(1).Append(0f).ToArray();
                yield return (near, previousLabel);
                continue;
            }

            var index = random.Next(labels.Length);
            previous = FashionMnist.TestImage(index);
            previousLabel = labels[index];
            yield return (previous, previousLabel);
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void Observe_HonestClient_RaisesNoAlarm(int seed)
    {
        var detectors = new ClientDetectors(new DetectionOptions());
        foreach (var (image, label) in HonestClient(1000, seed))
        {
            var signals = detectors.Observe(Observation(image, label));
            Assert.False(signals.PradaAlarm, $"PRADA alarmed on honest traffic at query {signals.Queries} (W {signals.PradaW})");
            Assert.False(signals.BlacklightAlarm, $"Blacklight alarmed on honest traffic at query {signals.Queries}");
            Assert.True(signals.LineSearchTotal == 0, $"line-search hit on honest traffic at query {signals.Queries}: {signals.LineSearchLatest}");
        }

        Assert.True(detectors.Signals.Retries > 20);
    }

    [Fact]
    public void Observe_Retries_AreCountedButAreNoEvidence()
    {
        var detectors = new ClientDetectors(new DetectionOptions());
        var image = FashionMnist.TestImage(0);
        for (var i = 0; i < 50; i++)
        {
            detectors.Observe(Observation(image, 9));
        }

        Assert.Equal(50, detectors.Signals.Queries);
        Assert.Equal(49, detectors.Signals.Retries);
        Assert.Equal(0, detectors.Signals.BlacklightMatches);
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public void Observe_RandomSearchAroundOneImage_BlacklightAlarmsWithinTenQueries(int seed)
    {
        // A Square/SimBA-style search: each query a small random change of the current best image.
        var random = new Random(seed);
        var current = FashionMnist.TestImage(random.Next(10_000));
        var detectors = new ClientDetectors(new DetectionOptions());
        var alarmAt = -1;
        for (var i = 0; i < 50 && alarmAt < 0; i++)
        {
            current = current.Select(v => Math.Clamp(v + (float)((random.NextDouble() - 0.5) * 0.02), 0f, 1f)).ToArray();
            if (detectors.Observe(Observation(current, 3)).BlacklightAlarm)
            {
                alarmAt = i + 1;
            }
        }

        Assert.InRange(alarmAt, 1, 10);
    }

    [Fact]
    public void Observe_FingerprintsOfAnEarlierKeep_CountOnlyTheirLargestKeepHashes()
    {
        // History stored, or records sent by front ends, while Keep was 50: each such fingerprint
        // counts as its 25 largest hashes (the first 25), which is what a fingerprint taken now holds.
        var wide = new BlacklightFingerprinter(new BlacklightOptions { Keep = 50 }, new byte[32], 784);
        var random = new Random(5);
        var image = FashionMnist.TestImage(17);
        var steps = Enumerable.Range(0, 12)
            .Select(_ => image = image.Select(v => Math.Clamp(v + (float)((random.NextDouble() - 0.5) * 0.02), 0f, 1f)).ToArray())
            .ToList();

        var mixed = new ClientDetectors(new DetectionOptions());
        var current = new ClientDetectors(new DetectionOptions());
        for (var i = 0; i < steps.Count; i++)
        {
            var now = Observation(steps[i], 3);
            var stored = i % 2 == 0 ? now with { Fingerprint = wide.Fingerprint(steps[i], 0, 1) } : now;
            Assert.Equal(i % 2 == 0 ? 50 : 25, stored.Fingerprint!.Length);
            Assert.Equal(now.Fingerprint, stored.Fingerprint[..25]);
            var fromMixed = mixed.Observe(stored);
            var fromCurrent = current.Observe(now);
            Assert.Equal(fromCurrent.BlacklightBestOverlap, fromMixed.BlacklightBestOverlap);
            Assert.InRange(fromMixed.BlacklightBestOverlap, 0, 25);
            Assert.Equal(fromCurrent.BlacklightMatches, fromMixed.BlacklightMatches);
        }

        Assert.True(current.Signals.BlacklightAlarm, "the search should alarm within 12 queries");
    }

    [Fact]
    public void ObserveCrossClient_MatchesReachTheirOwnAlarm_PopularImageLevelsDoNot()
    {
        var detectors = new ClientDetectors(new DetectionOptions());
        // An honest client re-encoding popular images: a few cross-client matches among many queries.
        for (var i = 0; i < 100; i++)
        {
            detectors.ObserveCrossClient(i % 25 == 0 ? 1 : 0, 1);
        }

        Assert.Equal(4, detectors.Signals.CrossClientMatches);
        Assert.False(detectors.Signals.BlacklightAlarm);

        // An attack spread over many keys: this key's queries all match the others'.
        var signals = detectors.ObserveCrossClient(7, 7);
        Assert.Equal(10, signals.CrossClientMatches);
        Assert.True(signals.BlacklightAlarm);
    }

    [Fact]
    public void Observe_ReencodedNearDuplicates_AreSkippedByPradaAndTheSqueezingCount()
    {
        var detectors = new ClientDetectors(new DetectionOptions());
        var random = new Random(4);
        var image = FashionMnist.TestImage(77);
        detectors.Observe(Observation(image, 3) with { SqueezeFlagged = true });
        for (var i = 0; i < 20; i++)
        {
            // Lossy re-encoding: a little noise, back to 8-bit levels.
            var copy = image.Select(v => MathF.Round(Math.Clamp(v + (float)(random.NextDouble() - 0.5) * 0.02f, 0f, 1f) * 255f) / 255f).ToArray();
            detectors.Observe(Observation(copy, 3) with { SqueezeFlagged = true });
        }

        Assert.Equal(20, detectors.Signals.NearDuplicates);
        Assert.Equal(1, detectors.Signals.SqueezeFlags);
        Assert.Equal(0, detectors.Signals.PradaDistances);
    }

    [Fact]
    public void Observe_NearDuplicates_CountedExactlyAsABruteForceCheckOfTheLast64Inputs()
    {
        // The run-sum pruning must never change the answer: count near-duplicates (RMS < 4 levels to
        // one of the last 64 non-retry inputs) directly and compare, on a stream with many near misses.
        var options = new DetectionOptions();
        var detectors = new ClientDetectors(options);
        var random = new Random(21);
        var recent = new List<byte[]>();
        var expected = 0;
        float[] image = FashionMnist.TestImage(5);
        for (var i = 0; i < 600; i++)
        {
            image = (i % 3) switch
            {
                0 => FashionMnist.TestImage(i * 7 % 10_000), // distinct: a repeat would be a retry, which no detector sees
                // Uniform noise of amplitude a has RMS a/sqrt(3): 4-10 levels straddles the limit.
                _ => [.. image.Select(v => Math.Clamp(v + (float)((random.NextDouble() - 0.5) * 2 * (4 + random.Next(7)) / 255.0), 0f, 1f))],
            };
            var observation = Observation(image, 0);
            if (recent.Any(r => FeatureDistance.SquaredL2(r, observation.Features) < options.NearDuplicateRms * options.NearDuplicateRms * 784))
            {
                expected++;
            }

            recent.Add(observation.Features);
            if (recent.Count > options.NearDuplicateMemory)
            {
                recent.RemoveAt(0);
            }

            detectors.Observe(observation);
        }

        Assert.InRange(expected, 100, 500);
        Assert.Equal(expected, detectors.Signals.NearDuplicates);
    }

    [Fact]
    public void Observe_NearDuplicates_OfTwoFeatureLengths_AreComparedOnlyWithTheirOwnLength()
    {
        // One client on a 28x28 and a 32x32 model: inputs of the other length are never near, and
        // the run sums kept per input follow each input's length as the memory turns over.
        var options = new DetectionOptions();
        var detectors = new ClientDetectors(options);
        var random = new Random(4);
        var recent = new List<byte[]>();
        var expected = 0;
        var previous = new Dictionary<int, byte[]>();
        for (var i = 0; i < 400; i++)
        {
            var length = random.Next(3) == 0 ? 1024 : 784;
            var features = new byte[length];
            if (previous.TryGetValue(length, out var last) && random.Next(2) == 0)
            {
                // Uniform noise of amplitude a has RMS about a/sqrt(3): 4-8 levels straddles the limit.
                var amplitude = random.Next(4, 9);
                for (var j = 0; j < length; j++)
                {
                    features[j] = (byte)Math.Clamp(last[j] + random.Next(-amplitude, amplitude + 1), 0, 255);
                }
            }
            else
            {
                random.NextBytes(features);
            }

            if (recent.Any(r => r.Length == length && FeatureDistance.SquaredL2(r, features) < options.NearDuplicateRms * options.NearDuplicateRms * length))
            {
                expected++;
            }

            recent.Add(features);
            if (recent.Count > options.NearDuplicateMemory)
            {
                recent.RemoveAt(0);
            }

            previous[length] = features;
            // One label per length: PRADA's class sets hold inputs of one length.
            detectors.Observe(new QueryObservation((ulong)i + 1, length, features, null));
        }

        Assert.InRange(expected, 50, 350);
        Assert.Equal(expected, detectors.Signals.NearDuplicates);
    }
}
