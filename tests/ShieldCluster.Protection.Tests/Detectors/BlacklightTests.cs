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

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(19)]
    [InlineData(20)]
    [InlineData(400)]
    [InlineData(782)]
    [InlineData(783)]
    public void Fingerprint_OneChangedValue_HashesExactlyTheWindowsThatHoldIt(int at)
    {
        // Every other window is flat and skipped: the windows that hold position 'at' start from
        // at - 19 to at (clipped to the item), each a distinct salted window.
        var secret = new byte[32];
        new Random(1).NextBytes(secret);
        var fingerprinter = new BlacklightFingerprinter(new BlacklightOptions { Keep = 1_000 }, secret, 784);
        var image = new float[784];
        image[at] = 1f;
        var expected = Math.Min(at, 784 - Options.Window) - Math.Max(0, at - Options.Window + 1) + 1;
        Assert.Equal(expected, fingerprinter.Fingerprint(image, 0, 1).Length);
    }

    [Fact]
    public void Fingerprint_OutOfRangeValuesClampAndNaNCountsAsTheMinimum()
    {
        // Every position, in the vectorised body and in the scalar tail (784 is not a multiple of 32).
        var fingerprinter = Fingerprinter();
        var random = new Random(8);
        var image = FashionMnist.TestImage(11);
        var odd = (float[])image.Clone();
        var clean = (float[])image.Clone();
        for (var i = 0; i < odd.Length; i += 1 + random.Next(5))
        {
            (odd[i], clean[i]) = random.Next(4) switch
            {
                0 => (float.NaN, 0f),
                1 => (-3f, 0f),
                2 => (float.PositiveInfinity, 1f),
                _ => (1.75f, 1f),
            };
        }

        Assert.Equal(fingerprinter.Fingerprint(clean, 0, 1), fingerprinter.Fingerprint(odd, 0, 1));
        Assert.NotEqual(fingerprinter.Fingerprint(image, 0, 1), fingerprinter.Fingerprint(clean, 0, 1));
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

    [Fact]
    public void Index_AHashInEveryQuery_CountsEveryLiveQueryOnce_TiesGoToTheOldest()
    {
        // Hash 7 is in all 3,000 queries, 1,000 + i in query i only; 2,000 were evicted.
        var index = new BlacklightIndex<int>(1_000);
        for (var i = 0; i < 3_000; i++)
        {
            index.Add([7, 1_000UL + (ulong)i], (ulong)i, i);
        }

        Assert.Equal(1_000, index.Count);
        Assert.Equal(new BlacklightMatch<int>(1, 2_000, 2_000), index.BestMatch([7], 99_999));
        Assert.Equal(new BlacklightMatch<int>(2, 2_999, 2_999), index.BestMatch([7, 3_999], 99_999));
        Assert.Equal(new BlacklightMatch<int>(1, 2_001, 2_001), index.BestMatch([7], 2_000));
        Assert.Null(index.BestMatch([2_999], 99_999));
    }

    [Fact]
    public void Index_RepeatedHashes_CountOncePerPairOfOccurrences()
    {
        var index = new BlacklightIndex<int>(2);
        index.Add([5, 5, 6], 1, 1);
        Assert.Equal(4, index.BestMatch([5, 5], 2)!.Value.Shared);
        Assert.Equal(3, index.BestMatch([5, 6], 2)!.Value.Shared);
        Assert.Equal(2, index.BestMatch([6, 6], 2)!.Value.Shared);

        // The repeated hash's postings go with their query.
        index.Add([5], 2, 2);
        index.Add([9], 3, 3);
        Assert.Equal(new BlacklightMatch<int>(2, 2, 2), index.BestMatch([5, 5, 6], 4));
        index.Add([9], 4, 4);
        Assert.Null(index.BestMatch([5, 5, 6], 5));
    }

    [Theory]
    [InlineData(1, 10, 6, 5_000, false)]
    [InlineData(7, 30, 10, 20_000, false)]
    [InlineData(7, 30, 10, 20_000, true)]
    [InlineData(100, 3_000, 50, 3_000, false)]
    [InlineData(100, 3_000, 50, 3_000, true)]
    public void Index_MatchesABruteForceModel_OverManyTimesItsCapacity(int capacity, int hashes, int maxLength, int operations, bool nearWrap)
    {
        // Random fingerprints of varying lengths (empty ones and repeated hashes included) from a
        // small set of hashes, digests that repeat: every step compared with a list of the live queries.
        var random = new Random(capacity * 31 + hashes);
        var universe = Universe(hashes);
        var index = nearWrap ? new BlacklightIndex<int>(capacity, uint.MaxValue - 5_000) : new BlacklightIndex<int>(capacity);
        var model = new ReferenceIndex(capacity);
        for (var op = 0; op < operations; op++)
        {
            var fingerprint = new ulong[random.Next(maxLength + 1)];
            for (var i = 0; i < fingerprint.Length; i++)
            {
                fingerprint[i] = universe[random.Next(universe.Length)];
            }

            var digest = (ulong)random.Next(20);
            Assert.Equal(model.BestMatch(fingerprint, digest), index.BestMatch(fingerprint, digest));
            index.Add(fingerprint, digest, op);
            model.Add(fingerprint, digest, op);
            Assert.Equal(model.Count, index.Count);
        }
    }

    [Fact]
    public void Index_ASmallClient_HoldsAFewKilobytes_AFullOneLessThanAsDictionaries()
    {
        var random = new Random(8);
        var fingerprints = Enumerable.Range(0, 2_000).Select(_ => Enumerable.Range(0, 50).Select(_ => (ulong)random.NextInt64()).ToArray()).ToArray();
        var warm = new BlacklightIndex<long>(1_000);
        warm.Add(fingerprints[0], 0, 0);
        warm.BestMatch(fingerprints[1], 1);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var small = new BlacklightIndex<long>(1_000);
        for (var i = 0; i < 3; i++)
        {
            small.BestMatch(fingerprints[i], (ulong)i);
            small.Add(fingerprints[i], (ulong)i, i);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // As dictionaries and queues, 9 KB held and 15 KB allocated; a full index held 3.3 MB.
        Assert.True(small.ReservedBytes <= 8 * 1024, $"{small.ReservedBytes} bytes held for 3 queries");
        Assert.True(allocated <= 16 * 1024, $"{allocated} bytes allocated for 3 queries");

        var full = new BlacklightIndex<long>(1_000);
        foreach (var (fingerprint, i) in fingerprints.Select((f, i) => (f, i)))
        {
            full.Add(fingerprint, (ulong)i, i);
        }

        Assert.True(full.ReservedBytes <= 2_500_000, $"{full.ReservedBytes} bytes held for 1,000 queries");
    }

    [Fact]
    public void Index_AtCapacity_LooksUpAndAddsWithoutAllocating()
    {
        var random = new Random(9);
        var fingerprints = Enumerable.Range(0, 500).Select(_ => Enumerable.Range(0, 50).Select(_ => (ulong)random.Next(20_000)).ToArray()).ToArray();
        var index = new BlacklightIndex<long>(100);
        for (var i = 0; i < 1_000; i++)
        {
            index.BestMatch(fingerprints[i % 500], (ulong)i);
            index.Add(fingerprints[i % 500], (ulong)i, i);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var matched = 0;
        for (var i = 1_000; i < 3_000; i++)
        {
            matched += index.BestMatch(fingerprints[i % 500], (ulong)i) is { Shared: > 0 } ? 1 : 0;
            index.Add(fingerprints[i % 500], (ulong)i, i);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(2_000, matched);
    }

    /// <summary>
    /// Hashes as the index meets them: large ones (fingerprints keep the largest) with equal low bits
    /// (one shard's share), and ones whose halves are equal, which all fold to the same 32-bit tag.
    /// </summary>
    internal static ulong[] Universe(int size) =>
        [.. Enumerable.Range(0, size).Select(k => (k % 3) switch
        {
            0 => 0xFFF0_0000_0000_0000UL | ((ulong)k << 2),
            1 => ((ulong)k << 32) | (uint)k,
            _ => (ulong)k * 0x9E37_79B9_7F4A_7C15UL,
        })];

    /// <summary>The index by brute force: the live queries in a list, oldest first.</summary>
    private sealed class ReferenceIndex(int capacity)
    {
        private readonly List<(Dictionary<ulong, int> Counts, ulong Digest, int Owner)> _live = [];

        public int Count => _live.Count;

        /// <summary>Shared: pairs of equal hashes. Ties: the query holding the fingerprint's earliest hash, then the oldest.</summary>
        public BlacklightMatch<int>? BestMatch(ulong[] fingerprint, ulong digest)
        {
            BlacklightMatch<int>? best = null;
            var bestPosition = 0;
            foreach (var (counts, earlier, owner) in _live)
            {
                var shared = fingerprint.Sum(h => counts.GetValueOrDefault(h));
                var position = Array.FindIndex(fingerprint, counts.ContainsKey);
                if (shared > 0 && earlier != digest && (best is null || shared > best.Value.Shared || (shared == best.Value.Shared && position < bestPosition)))
                {
                    best = new BlacklightMatch<int>(shared, owner, earlier);
                    bestPosition = position;
                }
            }

            return best;
        }

        public void Add(ulong[] fingerprint, ulong digest, int owner)
        {
            _live.Add((fingerprint.CountBy(h => h).ToDictionary(), digest, owner));
            if (_live.Count > capacity)
            {
                _live.RemoveAt(0);
            }
        }
    }
}
