using ShieldCluster.Protection.Detectors;
using ShieldCluster.Testing;

namespace ShieldCluster.Protection.Tests.Detectors;

public class BlacklightTests
{
    private static readonly BlacklightOptions Options = new();

    private static BlacklightFingerprinter Fingerprinter(int secretSeed = 1)
    {
        var secret = new byte[32];
        new Random(secretSeed).NextBytes(secret);
        return new BlacklightFingerprinter(Options, secret, 784);
    }

    private static int Shared(ulong[] a, ulong[] b) => a.Intersect(b).Count();

    private static float[] Noisy(float[] image, Random random, float amplitude) =>
        [.. image.Select(v => Math.Clamp(v + (float)((random.NextDouble() - 0.5) * 2 * amplitude), 0f, 1f))];

    [Fact]
    public void Fingerprint_IsDeterministicDistinctLargestFirstAndBounded()
    {
        var fingerprinter = Fingerprinter();
        var image = FashionMnist.TestImage(0);
        var a = fingerprinter.Fingerprint(image, 0, 1);
        Assert.Equal(a, fingerprinter.Fingerprint(image, 0, 1));
        Assert.Equal(Options.Keep, a.Length);
        Assert.Equal(a.Length, a.Distinct().Count());
        Assert.Equal(a.OrderByDescending(h => h), a);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    [InlineData(4242)]
    public void Fingerprint_KeepsTheLargestOfAllDistinctWindowHashes(int index)
    {
        // With room for every window the fingerprint is the whole distinct hash set; with Keep 50
        // it must be exactly that set's 50 largest.
        var secret = new byte[32];
        new Random(1).NextBytes(secret);
        var all = new BlacklightFingerprinter(new BlacklightOptions { Keep = 1_000 }, secret, 784).Fingerprint(FashionMnist.TestImage(index), 0, 1);
        var kept = Fingerprinter().Fingerprint(FashionMnist.TestImage(index), 0, 1);
        Assert.True(all.Length > Options.Keep, $"{all.Length} distinct windows");
        Assert.Equal(all.Take(Options.Keep), kept);
    }

    [Fact]
    public void Fingerprint_ItemsPastOneHkdfExpansion_AreSaltedAndMatchTheirNoisyCopies()
    {
        // 3x64x64 = 12,288 values: past the 8,160 salt bytes one HKDF expansion gives.
        var secret = new byte[32];
        new Random(1).NextBytes(secret);
        var fingerprinter = new BlacklightFingerprinter(Options, secret, 12_288);
        var random = new Random(3);
        var image = Enumerable.Range(0, 12_288).Select(_ => random.NextSingle()).ToArray();
        var a = fingerprinter.Fingerprint(image, 0, 1);
        Assert.Equal(Options.Keep, a.Length);
        Assert.True(Shared(a, fingerprinter.Fingerprint(Noisy(image, random, 0.001f), 0, 1)) >= Options.Keep / 2);

        // The salt past the first expansion matters: a change there alone changes the fingerprint.
        var changed = (float[])image.Clone();
        for (var i = 9_000; i < 12_288; i++)
        {
            changed[i] = 1 - changed[i];
        }

        Assert.NotEqual(a, fingerprinter.Fingerprint(changed, 0, 1));
    }

    [Fact]
    public void Fingerprint_AnotherSecret_SharesNothing()
    {
        var image = FashionMnist.TestImage(3);
        Assert.True(Shared(Fingerprinter(1).Fingerprint(image, 0, 1), Fingerprinter(2).Fingerprint(image, 0, 1)) <= 1);
    }

    [Fact]
    public void Fingerprint_DifferentRealImages_NeverMatch()
    {
        var fingerprinter = Fingerprinter();
        var random = new Random(5);
        var worst = 0;
        for (var t = 0; t < 1000; t++)
        {
            var a = fingerprinter.Fingerprint(FashionMnist.TestImage(random.Next(10_000)), 0, 1);
            var b = fingerprinter.Fingerprint(FashionMnist.TestImage(random.Next(10_000)), 0, 1);
            if (!a.SequenceEqual(b))
            {
                worst = Math.Max(worst, Shared(a, b));
            }
        }

        Assert.True(worst <= Options.MatchThreshold / 2, $"two different images shared {worst} hashes");
    }

    [Fact]
    public void Fingerprint_SmallPerturbations_MostlyMatch()
    {
        // A black-box attack's queries differ from each other by small perturbations.
        var fingerprinter = Fingerprinter();
        var random = new Random(6);
        var matches = 0;
        for (var t = 0; t < 200; t++)
        {
            var image = FashionMnist.TestImage(random.Next(10_000));
            matches += Shared(fingerprinter.Fingerprint(image, 0, 1), fingerprinter.Fingerprint(Noisy(image, random, 0.01f), 0, 1)) > Options.MatchThreshold ? 1 : 0;
        }

        Assert.True(matches >= 120, $"only {matches} of 200 perturbed copies matched their original");
    }

    [Fact]
    public void Fingerprint_FlatImages_HaveNoHashesToShare()
    {
        var fingerprinter = Fingerprinter();
        Assert.Empty(fingerprinter.Fingerprint(new float[784], 0, 1));
    }

    [Fact]
    public void Index_BestMatch_IgnoresTheSameDigest_AndFindsTheBestOther()
    {
        var index = new BlacklightIndex<string>(10);
        index.Add([1, 2, 3, 4], digest: 100, "alice");
        index.Add([1, 2, 9], digest: 200, "bob");
        var match = index.BestMatch([1, 2, 3, 4], digest: 100);
        Assert.Equal(new BlacklightMatch<string>(2, "bob", 200), match);
        Assert.Null(index.BestMatch([7, 8], digest: 1));
    }

    [Fact]
    public void Index_PastCapacity_EvictsTheOldest()
    {
        var index = new BlacklightIndex<int>(2);
        index.Add([1, 2], 1, 1);
        index.Add([3, 4], 2, 2);
        index.Add([5, 6], 3, 3);
        Assert.Equal(2, index.Count);
        Assert.Null(index.BestMatch([1, 2], 99));
        Assert.Equal(2, index.BestMatch([3, 4], 99)!.Value.Owner);
    }
}
