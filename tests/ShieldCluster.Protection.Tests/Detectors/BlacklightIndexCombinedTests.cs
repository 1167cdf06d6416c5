using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Protection.Tests.Detectors;

public class BlacklightIndexCombinedTests
{
    [Theory]
    [InlineData(1, 10, 6, 5_000, false)]
    [InlineData(7, 30, 10, 20_000, false)]
    [InlineData(7, 30, 10, 20_000, true)]
    [InlineData(8, 5, 12, 10_000, false)]
    [InlineData(100, 3_000, 50, 3_000, false)]
    [InlineData(100, 3_000, 50, 3_000, true)]
    [InlineData(1_000, 60_000, 50, 4_000, false)]
    public void BestMatchAndAdd_AnswersAndHoldsAsBestMatchThenAdd(int capacity, int hashes, int maxLength, int operations, bool nearWrap)
    {
        // Random fingerprints (empty ones and repeated hashes included) from a small set of hashes,
        // digests that repeat: every answer, and the index after (probed by a lookup that adds
        // nothing), compared with the two-call path, which BlacklightTests checks against a brute-force model.
        var random = new Random((capacity * 31) + hashes);
        var universe = Enumerable.Range(0, hashes).Select(_ => (ulong)random.NextInt64()).ToArray();
        var first = nearWrap ? uint.MaxValue - 5_000 : 0;
        var combined = new BlacklightIndex<int>(capacity, first);
        var separate = new BlacklightIndex<int>(capacity, first);
        ulong[] Fingerprint()
        {
            var fingerprint = new ulong[random.Next(maxLength + 1)];
            for (var i = 0; i < fingerprint.Length; i++)
            {
                fingerprint[i] = universe[random.Next(universe.Length)];
            }

            return fingerprint;
        }

        for (var op = 0; op < operations; op++)
        {
            var fingerprint = Fingerprint();
            var digest = (ulong)random.Next(20);
            var expected = separate.BestMatch(fingerprint, digest);
            separate.Add(fingerprint, digest, op);
            Assert.Equal(expected, combined.BestMatchAndAdd(fingerprint, digest, op));
            Assert.Equal(separate.Count, combined.Count);
            if (op % 7 == 0)
            {
                var probe = Fingerprint();
                Assert.Equal(separate.BestMatch(probe, 99), combined.BestMatch(probe, 99));
            }
        }
    }

    [Fact]
    public void BestMatchAndAdd_ARepeatedHash_CountsOncePerPairOfEarlierOccurrences()
    {
        // The new query's own postings of a repeated hash are not counted against it.
        var index = new BlacklightIndex<int>(10);
        index.Add([5, 5, 6], 1, 1);
        Assert.Equal(new BlacklightMatch<int>(4, 1, 1), index.BestMatchAndAdd([5, 5], 2, 2));
        Assert.Equal(new BlacklightMatch<int>(4, 1, 1), index.BestMatchAndAdd([5, 5], 3, 3));
        Assert.Null(index.BestMatchAndAdd([7, 7, 7], 4, 4));
    }
}
