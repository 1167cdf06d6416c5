using ShieldCluster.Contracts;
using ShieldCluster.Server.Serving;

namespace ShieldCluster.Server.Tests;

/// <summary>How a batch's queries are judged from the shards' answers (the cluster-wide Blacklight check).</summary>
public class CrossClientMatchesTests
{
    private const int Threshold = 25;
    private const int Popular = 8;

    [Fact]
    public void ANearDuplicateOfAnotherClient_Matches_WhenItsSharesSummedOverTheShardsExceedTheThreshold()
    {
        // 13 + 13 = 26 > 25 over two shards; bob's query shares 12 + 13 = 25, not more.
        ShardMatch[][] answers =
        [
            [new(0, "alice", 100, 13), new(0, "bob", 200, 12)],
            [new(0, "alice", 100, 13), new(0, "bob", 200, 13)],
        ];

        var matches = CrossClientMatches.Find([1UL], answers, Threshold, Popular);

        Assert.Equal(["alice"], Assert.Single(matches)!);
    }

    [Fact]
    public void TheSameContent_IsNoEvidence_ButCountsTowardsPopularity()
    {
        // Query 0 shares everything with carol's identical input: no match. Query 1's near duplicates
        // come from 8 clients (one of them identical): popular content, no match either.
        ShardMatch[][] answers =
        [
            [
                new(0, "carol", 1, 50),
                .. Enumerable.Range(0, 7).Select(c => new ShardMatch(1, $"c{c}", 10UL + (ulong)c, 40)),
                new(1, "dave", 2, 50),
            ],
        ];

        var matches = CrossClientMatches.Find([1UL, 2UL], answers, Threshold, Popular);

        Assert.Equal([null, null], matches);
    }

    [Fact]
    public void AnswersOutOfQueryOrder_OrNamingQueriesBeyondTheBatch_AreRefused()
    {
        ShardMatch[][] unordered = [[new(1, "a", 5, 30), new(0, "b", 6, 30)]];
        ShardMatch[][] beyond = [[new(2, "a", 5, 30)]];

        Assert.Throws<InvalidOperationException>(() => CrossClientMatches.Find([1UL, 2UL], unordered, Threshold, Popular));
        Assert.Throws<InvalidOperationException>(() => CrossClientMatches.Find([1UL, 2UL], beyond, Threshold, Popular));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomBatches_AgreeWithSummingEveryQueryClientDigestTriple(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 200; round++)
        {
            var queries = random.Next(1, 40);
            var digests = Enumerable.Range(0, queries).Select(_ => (ulong)random.Next(0, 6)).ToArray();
            var clients = random.Next(1, 14);
            var answers = Enumerable.Range(0, 4).Select(_ =>
            {
                var hits = new List<ShardMatch>();
                for (var q = 0; q < queries; q++)
                {
                    for (var h = random.Next(0, 12); h > 0; h--)
                    {
                        hits.Add(new ShardMatch(q, $"client-{random.Next(clients)}", (ulong)random.Next(0, 6), random.Next(2, 16)));
                    }
                }

                return hits.ToArray();
            }).ToArray();

            var found = CrossClientMatches.Find(digests, answers, Threshold, Popular);

            Assert.Equal(Reference(digests, answers), found.Select(m => m?.Order(StringComparer.Ordinal).ToArray()));
        }
    }

    /// <summary>The judgement spelled out: sum every (query, client, digest), then judge each query.</summary>
    private static string[]?[] Reference(ulong[] digests, ShardMatch[][] answers)
    {
        var sums = answers.SelectMany(a => a)
            .GroupBy(h => (h.Query, h.ClientId, h.Digest))
            .Select(g => (g.Key.Query, g.Key.ClientId, g.Key.Digest, Shared: g.Sum(h => h.Shared)))
            .Where(s => s.Shared > Threshold)
            .ToList();
        return [.. Enumerable.Range(0, digests.Length).Select(q =>
        {
            var all = sums.Where(s => s.Query == q).Select(s => s.ClientId).Distinct().Count();
            var near = sums.Where(s => s.Query == q && s.Digest != digests[q]).Select(s => s.ClientId).Distinct().Order(StringComparer.Ordinal).ToArray();
            return near.Length > 0 && all < Popular ? near : null;
        })];
    }
}
