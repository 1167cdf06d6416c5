using ShieldCluster.Protection.Detectors;

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
}
