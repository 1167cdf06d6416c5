using ShieldCluster.Protection.Detectors;
using ShieldCluster.Testing;

namespace ShieldCluster.Protection.Tests.Detectors;

public class HashPostingsTests
{
    [Fact]
    public void LookupAndAdd_CountsSharedHashesPerEarlierQueryOfOtherOwners()
    {
        var shard = new HashPostings<string>(100);
        Assert.Empty(shard.LookupAndAdd("alice", 1, [10, 11, 12, 13]));
        Assert.Empty(shard.LookupAndAdd("alice", 2, [10, 11, 12]));
        var hits = shard.LookupAndAdd("mallory", 3, [10, 11, 12, 99]);
        Assert.Equal([("alice", 1UL, 3), ("alice", 2UL, 3)], hits.OrderBy(h => h.Digest));
    }

    [Fact]
    public void LookupAndAdd_SameDigestFromAnotherOwner_IsReturnedWithItsDigest_SameOwnerIsNot()
    {
        // The caller tells popular content (the same input from many clients) from evidence by the digest.
        var shard = new HashPostings<string>(100);
        shard.LookupAndAdd("alice", 7, [1, 2, 3]);
        Assert.Equal([("alice", 7UL, 3)], shard.LookupAndAdd("bob", 7, [1, 2, 3]));
        Assert.DoesNotContain(shard.LookupAndAdd("alice", 8, [1, 2, 3]), h => h.Owner == "alice");
    }

    [Fact]
    public void LookupAndAdd_PastCapacity_EvictsTheOldestQueries()
    {
        var shard = new HashPostings<string>(4);
        shard.LookupAndAdd("a", 1, [1, 2]);
        shard.LookupAndAdd("b", 2, [3, 4]);
        shard.LookupAndAdd("c", 3, [5, 6]);
        Assert.Equal(4, shard.Count);
        Assert.Empty(shard.LookupAndAdd("d", 4, [1, 2]));
        Assert.Single(shard.LookupAndAdd("e", 5, [5]));
    }

    [Fact]
    public void LookupAndAdd_ACommonHash_KeepsOnlyItsMostRecentQueries()
    {
        // Hash 7 is in every query (a common pattern); hash 1000 + i is each query's own.
        var shard = new HashPostings<string>(10_000, maxPerHash: 3);
        for (var i = 0; i < 10; i++)
        {
            shard.LookupAndAdd($"c{i}", (ulong)i, [7, 1000UL + (ulong)i]);
        }

        // 10 queries, 20 postings added; hash 7 keeps the last 3, every unique hash its one.
        Assert.Equal(10 + 3, shard.Count);
        var hits = shard.LookupAndAdd("probe", 99, [7, 1000]);
        Assert.Equal(["c0", "c7", "c8", "c9"], hits.Select(h => h.Owner).Order(StringComparer.Ordinal));
        Assert.Equal(1, hits.Single(h => h.Owner == "c0").Shared);

        // Capacity eviction after the per-hash cap dropped some of a query's postings stays consistent.
        var small = new HashPostings<string>(4, maxPerHash: 1);
        small.LookupAndAdd("a", 1, [1, 2]);
        small.LookupAndAdd("b", 2, [1, 3]);
        Assert.Equal(3, small.Count);
        small.LookupAndAdd("c", 3, [4, 5]);
        Assert.Equal(4, small.Count);
        Assert.Equal([("b", 2UL, 1)], small.LookupAndAdd("d", 4, [1]));
    }

    [Fact]
    public void LookupAndAdd_MinShared_LeavesOutQueriesSharingFewerHashes()
    {
        var shard = new HashPostings<string>(100);
        shard.LookupAndAdd("a", 1, [1, 2, 3]);
        shard.LookupAndAdd("b", 2, [3, 4]);
        shard.LookupAndAdd("b", 3, [3, 4]);
        var hits = shard.LookupAndAdd("c", 4, [1, 2, 3, 4], minShared: 2);
        Assert.Equal([("a", 1UL, 3), ("b", 2UL, 2), ("b", 3UL, 2)], hits.OrderBy(h => h.Digest));
        Assert.Equal([("a", 1UL, 2), ("c", 4UL, 2)], shard.LookupAndAdd("d", 5, [1, 2, 5], minShared: 2).OrderBy(h => h.Digest));
    }

    [Fact]
    public void LookupAndAdd_AHashInManyQueries_ReturnsItsNewestMaxPerHash_OldestFirst()
    {
        var shard = new HashPostings<string>(100_000);
        for (var i = 0; i < 1_000; i++)
        {
            shard.LookupAndAdd($"c{i}", (ulong)i, [7, 1_000UL + (ulong)i]);
        }

        Assert.Equal(1_000 + HashPostings<string>.DefaultMaxPerHash, shard.Count);
        var hits = shard.LookupAndAdd("probe", 99_999, [7]);
        Assert.Equal(Enumerable.Range(1_000 - HashPostings<string>.DefaultMaxPerHash, HashPostings<string>.DefaultMaxPerHash).Select(i => ($"c{i}", (ulong)i, 1)), hits);
    }

    [Fact]
    public void LookupAndAdd_RepeatedHashes_CountOncePerPairOfOccurrences_AndTakePlacesUnderTheCap()
    {
        var shard = new HashPostings<string>(100);
        shard.LookupAndAdd("a", 1, [5, 5, 6]);
        Assert.Equal([("a", 1UL, 4)], shard.LookupAndAdd("b", 2, [5, 5]));
        Assert.Equal(5, shard.Count);

        // Under a cap of 2 the second 5 of "a" and both of "b" push out the oldest of the hash.
        var capped = new HashPostings<string>(100, maxPerHash: 2);
        capped.LookupAndAdd("a", 1, [5, 5, 6]);
        Assert.Equal([("a", 1UL, 3)], capped.LookupAndAdd("b", 2, [5, 5]));
        Assert.Equal(3, capped.Count);
        Assert.Equal([("b", 2UL, 2), ("a", 1UL, 1)], capped.LookupAndAdd("c", 3, [5, 6]));
    }

    [Theory]
    [InlineData(4, 1, 6, 4, 5_000, false)]
    [InlineData(40, 3, 30, 8, 20_000, false)]
    [InlineData(40, 3, 30, 8, 20_000, true)]
    [InlineData(60, 64, 20, 10, 10_000, false)]
    [InlineData(1_000, 5, 300, 20, 2_000, false)]
    [InlineData(1_000, 5, 300, 20, 2_000, true)]
    public void LookupAndAdd_MatchesASimpleModel_OverManyTimesItsCapacity(int capacity, int maxPerHash, int hashes, int maxLength, int operations, bool nearWrap)
    {
        // Random queries of varying lengths (empty ones and repeated hashes included) from a small
        // set of hashes, few owners and digests: every answer (in order) and count compared with a
        // model that keeps the live queries in a list and finds each hash's postings by scanning it.
        var random = new Random(capacity * 31 + maxPerHash);
        var universe = BlacklightTests.Universe(hashes);
        var shard = nearWrap ? new HashPostings<string>(capacity, maxPerHash, uint.MaxValue - 5_000) : new HashPostings<string>(capacity, maxPerHash);
        var model = new ReferenceShard(capacity, maxPerHash);

        // The same stream through the form the shard grain uses: owners a struct around the id (the
        // index compiled for it, equality by value), answers appended to one list that is never cleared.
        var flat = nearWrap ? new HashPostings<Owner>(capacity, maxPerHash, uint.MaxValue - 5_000) : new HashPostings<Owner>(capacity, maxPerHash);
        var found = new List<(Owner Owner, ulong Digest, int Shared)>();
        for (var op = 0; op < operations; op++)
        {
            var query = new ulong[random.Next(maxLength + 1)];
            for (var i = 0; i < query.Length; i++)
            {
                query[i] = universe[random.Next(universe.Length)];
            }

            var owner = $"o{random.Next(5)}";
            var digest = (ulong)random.Next(30);
            var minShared = random.Next(4);
            var expected = model.LookupAndAdd(owner, digest, query, minShared);
            Assert.Equal(expected, shard.LookupAndAdd(owner, digest, query, minShared));
            Assert.Equal(model.Count, shard.Count);

            var before = found.Count;
            Assert.Equal(expected.Count, flat.LookupAndAdd(new Owner(new string(owner.AsSpan())), digest, query, minShared, found));
            Assert.Equal(expected, found.Skip(before).Select(f => (f.Owner.Id, f.Digest, f.Shared)));
            Assert.Equal(model.Count, flat.Count);
        }
    }

    private readonly record struct Owner(string Id);

    /// <summary>
    /// A shard at the default capacity, fed a quarter of each real query's fingerprint as the silo
    /// splits them (Fashion-MNIST: ~190,000 distinct hashes among its 250,000 postings), keeps its
    /// table at most 3/4 full: 2^18 entries of 16 bytes (4 MB). Half full, it took 2^19 (8 MB) and
    /// the shard 14.7 MB in all (now 10.5 MB); four shards on a silo held 16 MB more for the cache to miss in.
    /// </summary>
    [Fact]
    public void LookupAndAdd_AtCapacityOnRealQueries_HoldsItsTableAtMostThreeQuartersFull()
    {
        var options = new DetectionOptions();
        var fingerprinter = new BlacklightFingerprinter(options.Blacklight, new byte[32], FashionMnist.Pixels);
        var shard = new HashPostings<string>(options.CrossClientShardCapacity, options.CrossClientPostingsPerHash);
        // The test images, then the training images, until the shard has evicted for a while (~40,000 fill it).
        var added = 0;
        foreach (var images in new[] { FashionMnist.TestSet.Images, FashionMnist.TrainSet.Images })
        {
            for (var i = 0; i < images.Length / FashionMnist.Pixels && added < 45_000; i++, added++)
            {
                var share = fingerprinter.Fingerprint(images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels), 0f, 1f).Where(h => h % 4 == 0).ToArray();
                shard.LookupAndAdd($"client-{added % 32}", (ulong)added, share, 2);
            }
        }

        Assert.True(shard.Count > options.CrossClientShardCapacity - 50, $"{shard.Count} postings held");
        Assert.InRange(shard.ReservedBytes, 4_000_000, 11_000_000);
    }

    [Fact]
    public void LookupAndAdd_AtCapacity_AllocatesOnlyTheAnswer()
    {
        var random = new Random(10);
        var queries = Enumerable.Range(0, 400).Select(_ => Enumerable.Range(0, 12).Select(_ => (ulong)random.Next(5_000)).ToArray()).ToArray();
        var shard = new HashPostings<string>(2_000, maxPerHash: 4);
        for (var i = 0; i < 2_000; i++)
        {
            shard.LookupAndAdd("a", (ulong)i, queries[i % 400], 2);
        }

        // Only the same owner's queries share hashes: no answer, nothing allocated.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var hits = 0;
        for (var i = 2_000; i < 4_000; i++)
        {
            hits += shard.LookupAndAdd("a", (ulong)i, queries[i % 400], 2).Count;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, hits);
        Assert.NotEmpty(shard.LookupAndAdd("b", 0, queries[3_999 % 400], 2));
        Assert.True(shard.ReservedBytes <= 100 * 1024, $"{shard.ReservedBytes} bytes held for 2,000 postings");

        // Into a list the caller reuses (as the shard grain does for a batch): nothing at all, answers included.
        var found = new List<(string Owner, ulong Digest, int Shared)>(64);
        before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 4_000; i < 6_000; i++)
        {
            found.Clear();
            hits += shard.LookupAndAdd(i % 2 == 0 ? "a" : "b", (ulong)i, queries[i % 400], 2, found);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(hits >= 50, $"{hits} answers");
    }

    /// <summary>The shard as it was specified: a queue of postings per hash, here found by scanning a list of the live queries.</summary>
    private sealed class ReferenceShard(int capacity, int maxPerHash)
    {
        private readonly List<(string Owner, ulong Digest, ulong[] Hashes, bool[] Kept)> _live = [];

        public int Count { get; private set; }

        public List<(string Owner, ulong Digest, int Shared)> LookupAndAdd(string owner, ulong digest, ulong[] hashes, int minShared)
        {
            var kept = new bool[hashes.Length];
            _live.Add((owner, digest, hashes, kept));
            var counts = new List<(int Query, int Shared)>();
            for (var i = 0; i < hashes.Length; i++)
            {
                // The hash's postings, oldest first, those dropped for the cap left out.
                var postings = new List<(int Query, int Position)>();
                for (var q = 0; q < _live.Count; q++)
                {
                    for (var j = 0; j < _live[q].Hashes.Length; j++)
                    {
                        if (_live[q].Kept[j] && _live[q].Hashes[j] == hashes[i])
                        {
                            postings.Add((q, j));
                        }
                    }
                }

                foreach (var (q, _) in postings.Where(p => _live[p.Query].Owner != owner))
                {
                    var k = counts.FindIndex(c => c.Query == q);
                    if (k < 0)
                    {
                        counts.Add((q, 1));
                    }
                    else
                    {
                        counts[k] = (q, counts[k].Shared + 1);
                    }
                }

                if (postings.Count >= maxPerHash)
                {
                    _live[postings[0].Query].Kept[postings[0].Position] = false;
                    Count--;
                }

                kept[i] = true;
                Count++;
            }

            var result = counts.Where(c => c.Shared >= minShared).Select(c => (_live[c.Query].Owner, _live[c.Query].Digest, c.Shared)).ToList();
            while (Count > capacity)
            {
                Count -= _live[0].Kept.Count(k => k);
                _live.RemoveAt(0);
            }

            return result;
        }
    }
}
