using System.IO.Hashing;
using ShieldCluster.Protection.Detectors;
using ShieldCluster.Testing;

namespace ShieldCluster.Protection.Tests.Detectors;

/// <summary>
/// Fingerprints and detector results are persisted (client histories, shards) and compared across
/// versions, so their exact values are pinned: checksums of what the implementation before the
/// contiguous class sets, the selection of the largest hashes and the inlined window hash computed
/// (commit 4c1f1bd) on fixed streams. A faster implementation must give every bit back.
/// </summary>
public class PinnedResultsTests
{
    private static byte[] Secret(int seed)
    {
        var secret = new byte[32];
        new Random(seed).NextBytes(secret);
        return secret;
    }

    [Theory]
    [InlineData(20, 50, 50, true, 0xC8A7A136D0AA336FUL)]
    [InlineData(20, 50, 50, false, 0xFBEE7247A7332DC9UL)]
    [InlineData(17, 10, 25, true, 0x1B59103B5FD6B605UL)]
    [InlineData(32, 200, 50, true, 0x5A222742D33E9B65UL)]
    [InlineData(8, 50, 50, true, 0x9F4CB7C471276C73UL)]
    [InlineData(40, 50, 100, true, 0x628275E83A8A25C2UL)]
    [InlineData(20, 1_000, 50, true, 0xBBA6415F79D13E98UL)]
    public void Fingerprints_OfRealImages_AreThoseOfThePreviousImplementation(int window, int keep, int quantum, bool skipFlat, ulong expected)
    {
        var fingerprinter = new BlacklightFingerprinter(
            new BlacklightOptions { Window = window, Keep = keep, Quantum = quantum, SkipFlatWindows = skipFlat }, Secret(window), 784);
        var checksum = new XxHash64();
        for (var i = 0; i < 500; i++)
        {
            var fingerprint = fingerprinter.Fingerprint(FashionMnist.TestImage(i * 7), 0, 1);
            checksum.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(fingerprint.AsSpan()));
            checksum.Append(BitConverter.GetBytes(fingerprint.Length));
        }

        Assert.Equal($"{expected:X16}", $"{checksum.GetCurrentHashAsUInt64():X16}");
    }

    [Fact]
    public void Fingerprints_OfLargeRandomItems_AreThoseOfThePreviousImplementation()
    {
        var fingerprinter = new BlacklightFingerprinter(Paper(), Secret(5), 3_072);
        var random = new Random(6);
        var checksum = new XxHash64();
        for (var i = 0; i < 50; i++)
        {
            // Coarse values: windows repeat, so duplicates are dropped and the selection meets ties.
            var item = Enumerable.Range(0, 3_072).Select(_ => random.Next(4) / 3f).ToArray();
            var fingerprint = fingerprinter.Fingerprint(item, 0, 1);
            checksum.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(fingerprint.AsSpan()));
            checksum.Append(BitConverter.GetBytes(fingerprint.Length));
        }

        Assert.Equal("70FF0C31F5A31E9F", $"{checksum.GetCurrentHashAsUInt64():X16}");
    }

    [Theory]
    [InlineData(false, 0x55BC486D9EBC6685UL)]
    [InlineData(true, 0x367906ED9C71A7CDUL)]
    public void ClientDetectors_OnMixedTraffic_SignalWhatThePreviousImplementationSignalled(bool smallCaps, ulong expected)
    {
        // Pinned at the paper's 50 hashes and threshold 25, the defaults when the checksums were taken.
        var options = new DetectionOptions { Blacklight = Paper() };
        if (smallCaps)
        {
            // Small caps: class sets, distance window and index evict all along the stream.
            options.Prada = new PradaOptions { MaxPerClass = 3, Window = 60, MinDistances = 20 };
            options.Blacklight.IndexCapacity = 40;
            options.NearDuplicateMemory = 5;
        }

        var detectors = new ClientDetectors(options);
        var fingerprinter = new BlacklightFingerprinter(Paper(), Secret(9), 784);
        var checksum = new XxHash64();
        var step = 0;
        var maxOverlap = 0;
        foreach (var (label, image) in MixedTraffic(seed: 10))
        {
            var features = QueryStreams.Extract(image);
            var signals = detectors.Observe(new QueryObservation(features.Digest, label, features.Thumbnail, fingerprinter.Fingerprint(image, 0, 1), step % 7 == 0));
            maxOverlap = Math.Max(maxOverlap, signals.BlacklightBestOverlap);
            if (++step % 25 == 0)
            {
                signals = detectors.ObserveCrossClient(step % 3, 4);
            }

            Append(checksum, signals);
        }

        // The stream reaches every detector's evidence, or the checksum would pin little.
        var final = detectors.Signals;
        Assert.True(final.Retries > 0 && final.NearDuplicates > 0 && final.PradaW is not null && final.LineSearchTotal > 0 && final.CrossClientMatches > 0, $"{final}");
        Assert.True(maxOverlap > options.Blacklight.MatchThreshold, $"best overlap {maxOverlap}");

        Assert.Equal($"{expected:X16}", $"{checksum.GetCurrentHashAsUInt64():X16}");
    }

    [Fact]
    public void Prada_OnMixedTraffic_ObservesWhatThePreviousImplementationObserved()
    {
        var detector = new PradaDetector(new PradaOptions { MaxPerClass = 8, Window = 100, MinDistances = 30 });
        var checksum = new XxHash64();
        foreach (var (label, image) in MixedTraffic(seed: 11))
        {
            var observation = detector.Observe(label, QueryStreams.Features(image));
            checksum.Append(BitConverter.GetBytes(observation.Distance ?? -1));
            checksum.Append(BitConverter.GetBytes(Pinned(observation.W)));
            checksum.Append(BitConverter.GetBytes(observation.Alarm));
            checksum.Append(BitConverter.GetBytes(observation.Distances));
        }

        Assert.Equal("2C8513B876633E2F", $"{checksum.GetCurrentHashAsUInt64():X16}");
    }

    /// <summary>
    /// W as pinned: to 10 decimals. Its sums may be reordered (vector accumulators), which moves W in
    /// its last bits only; every other figure is pinned exactly. The three checksums that pin W so were
    /// taken with both the scalar sums (before 2026-11-29) and the vector ones: the same.
    /// </summary>
    private static double Pinned(double? w) => w is { } value ? Math.Round(value, 10) : -1;

    private static void Append(XxHash64 checksum, DetectorSignals s)
    {
        foreach (var value in new double[]
        {
            s.Queries, s.Retries, Pinned(s.PradaW), s.PradaDistances, s.PradaAlarm ? 1 : 0, s.BlacklightMatches, s.BlacklightBestOverlap,
            s.BlacklightAlarm ? 1 : 0, s.DistinctLabels, s.SqueezeFlags, s.SqueezeChecked, s.SqueezeAlarm ? 1 : 0, s.CrossClientMatches,
            s.NearDuplicates, s.LineSearchHits, s.LineSearchAlarm ? 1 : 0, s.LineSearchTotal,
            s.LineSearchLatest?.OlderBack ?? -1, s.LineSearchLatest?.NewerBack ?? -1, s.LineSearchLatest?.T ?? -1,
            s.LineSearchLatest?.ResidualRms ?? -1, s.LineSearchLatest?.SpanRms ?? -1,
        })
        {
            checksum.Append(BitConverter.GetBytes(value));
        }
    }

    /// <summary>
    /// Honest images with retries and near-duplicates, then synthetic extraction, a binary search
    /// between two images and small perturbations of one image, interleaved in bursts.
    /// </summary>
    private static IEnumerable<(int Label, float[] Image)> MixedTraffic(int seed)
    {
        var random = new Random(seed);
        var (_, labels) = FashionMnist.TestSet;
        using var jacobian = QueryStreams.JacobianAugmentation(seeds: 10, rounds: 5, lambda: 0.1f, seed).GetEnumerator();
        float[]? previous = null;
        var previousLabel = 0;
        for (var burst = 0; burst < 40; burst++)
        {
            switch (burst % 4)
            {
                case 0:
                    for (var i = 0; i < 40; i++)
                    {
                        var roll = random.NextDouble();
                        if (previous is not null && roll < 0.1)
                        {
                            yield return (previousLabel, previous);
                        }
                        else if (previous is not null && roll < 0.2)
                        {
                            yield return (previousLabel, [.. previous.Select(v => Math.Clamp(v * 1.05f, 0f, 1f))]);
                        }
                        else
                        {
                            var index = random.Next(labels.Length);
                            (previous, previousLabel) = (FashionMnist.TestImage(index), labels[index]);
                            yield return (previousLabel, previous);
                        }
                    }

                    break;
                case 1:
                    for (var i = 0; i < 30 && jacobian.MoveNext(); i++)
                    {
                        yield return jacobian.Current;
                    }

                    break;
                case 2:
                    {
                        var a = random.Next(labels.Length);
                        var b = random.Next(labels.Length);
                        var x = FashionMnist.TestImage(a);
                        var y = FashionMnist.TestImage(b);
                        var (low, high) = (0.0, 1.0);
                        for (var i = 0; i < 12; i++)
                        {
                            var t = (low + high) / 2;
                            var blend = x.Zip(y, (u, v) => (float)(((1 - t) * u) + (t * v))).ToArray();
                            var adversarial = random.Next(2) == 0;
                            (low, high) = adversarial ? (low, t) : (t, high);
                            yield return (adversarial ? labels[b] : labels[a], blend);
                        }

                        break;
                    }

                default:
                    {
                        var index = random.Next(labels.Length);
                        var image = FashionMnist.TestImage(index);
                        for (var i = 0; i < 15; i++)
                        {
                            yield return (labels[index], [.. image.Select(v => Math.Clamp(v + ((random.NextSingle() - 0.5f) * 0.02f), 0f, 1f))]);
                        }

                        break;
                    }
            }
        }
    }

    /// <summary>Blacklight at the paper's CIFAR-10 values (the defaults until Keep became 25).</summary>
    private static BlacklightOptions Paper() => new() { Keep = 50, MatchThreshold = 25 };
}
