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
}
