using ShieldCluster.Protection.Detectors;
using ShieldCluster.Protection.Features;
using ShieldCluster.Testing;

namespace ShieldCluster.Protection.Tests.Detectors;

public class ClientDetectorsLengthTests
{
    [Fact]
    public void Observe_OneClientTwoModelsOfDifferentInputLengths_ComparesOnlyInputsOfOneLength()
    {
        // A client alternating between a 28x28 model and a 3x32x32 one, every answer class 3: PRADA
        // threw on the first 1,024-byte input after a 784-byte one of the same class. Near-duplicates
        // and lines are looked for among inputs of the same length only.
        var small = new QueryFeatureExtractor([1, 28, 28], 0f, 1f);
        var large = new QueryFeatureExtractor([3, 32, 32], 0f, 1f);
        var smallFingerprints = new BlacklightFingerprinter(new BlacklightOptions(), new byte[32], 784);
        var largeFingerprints = new BlacklightFingerprinter(new BlacklightOptions(), new byte[32], 3_072);
        var detectors = new ClientDetectors(new DetectionOptions());
        var random = new Random(3);
        for (var i = 0; i < 300; i++)
        {
            var image = FashionMnist.TestImage(i);
            var features = small.Extract(image);
            detectors.Observe(new QueryObservation(features.Digest, 3, features.Thumbnail, smallFingerprints.Fingerprint(image, 0, 1)));

            // The same picture, tiled into three channels of 32x32: a different input length.
            var tiled = new float[3_072];
            for (var p = 0; p < tiled.Length; p++)
            {
                var (y, x) = ((p % 1_024) / 32, p % 32);
                tiled[p] = y < 28 && x < 28 ? image[(y * 28) + x] : random.NextSingle() * 0.01f;
            }

            var largeFeatures = large.Extract(tiled);
            var signals = detectors.Observe(new QueryObservation(largeFeatures.Digest, 3, largeFeatures.Thumbnail, largeFingerprints.Fingerprint(tiled, 0, 1)));
            Assert.Equal(0, signals.NearDuplicates);
            Assert.Equal(0, signals.LineSearchTotal);
        }

        Assert.Equal(600, detectors.Signals.Queries);
        Assert.Equal(new PradaOptions().Window, detectors.Signals.PradaDistances);
    }

    [Theory]
    [InlineData(1, false, 1)]
    [InlineData(3, true, 2)]
    [InlineData(64, false, 3)]
    [InlineData(64, true, 4)]
    public void Observe_NearDuplicates_AreThoseOfAReferenceOverTheRecentInputsOfTheSameLength(int memory, bool threeLengths, int seed)
    {
        // The reference compares the whole distance with every recent input of the same length; the
        // detectors rule most out on run sums kept side by side. Inputs are noisy copies of a few
        // bases (so near-duplicates are common), of lengths whose last run is partial.
        var options = new DetectionOptions { NearDuplicateMemory = memory };
        var detectors = new ClientDetectors(options);
        var recent = new List<byte[]>();
        var random = new Random(seed);
        var lengths = threeLengths ? new[] { 40, 784, 50 } : [784];
        var bases = lengths.SelectMany(length => Enumerable.Range(0, 4).Select(_ =>
        {
            var b = new byte[length];
            random.NextBytes(b);
            return b;
        })).ToArray();
        long expected = 0;
        for (var i = 0; i < 3_000; i++)
        {
            var basis = bases[random.Next(bases.Length)];
            var noise = random.Next(1, 9);
            var features = basis.Select(v => (byte)Math.Clamp(v + random.Next(-noise, noise + 1), 0, 255)).ToArray();
            var limit = (long)(options.NearDuplicateRms * options.NearDuplicateRms * features.Length);
            var near = recent.Any(r => r.Length == features.Length && FeatureDistanceReference(r, features) < limit);
            expected += near ? 1 : 0;
            recent.Add(features);
            if (recent.Count > memory)
            {
                recent.RemoveAt(0);
            }

            Assert.Equal(expected, detectors.Observe(new QueryObservation((ulong)i + 1, 0, features, null)).NearDuplicates);
        }

        Assert.True(expected is > 100 and < 2_900, $"{expected} near-duplicates");
    }

    private static long FeatureDistanceReference(byte[] a, byte[] b)
    {
        long sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += (a[i] - b[i]) * (a[i] - b[i]);
        }

        return sum;
    }
}
