using ShieldCluster.Contracts;
using ShieldCluster.Protection.Detectors;
using ShieldCluster.Testing;

namespace ShieldCluster.Grains.Tests;

/// <summary>
/// One shard of the cluster-wide Blacklight index, called as the front ends call it (through the
/// test cluster's client, so batches and answers are serialised): the flat batch form answers as the
/// list form does, and a malformed batch is refused without recording any of it.
/// </summary>
[Collection(ClusterCollection.Name)]
public class FingerprintShardGrainTests(ClusterFixture fixture)
{
    private const int Shards = 4;

    [Fact]
    public async Task FlatBatches_AnswerAsTheListFormDoes_OnRealImagesAndTheirNearDuplicates()
    {
        var queries = Queries();
        var flat = fixture.Grains.GetGrain<IFingerprintShardGrain>(1_000);
        var list = fixture.Grains.GetGrain<IFingerprintShardGrain>(1_001);
        var hits = 0;
        var matchedOthers = 0;
        foreach (var batch in queries.Chunk(40))
        {
            var answer = await flat.LookupAndAddAsync(Flat(batch));
            var expected = await list.LookupAndAddAsync([.. batch.Select(q => new ShardQuery(q.Digest, q.Share, q.Client))]);

            Assert.Equal(
                expected.Select(h => (h.Query, h.ClientId, h.Digest, h.Shared)),
                answer.Hits.Select(h => (h.Query, h.ClientId, h.Digest, h.Shared)));
            Assert.All(answer.Hits, h => Assert.NotEqual(batch[h.Query].Client, h.ClientId));
            Assert.All(answer.Hits, h => Assert.True(h.Shared >= 2, $"a hit sharing {h.Shared}"));
            hits += answer.Hits.Length;
            matchedOthers += answer.Hits.Count(h => h.Shared >= 6);
        }

        // The near duplicates (each sent by another client than its original) share most of the
        // shard's hashes; without them the comparison would check little.
        Assert.True(matchedOthers >= 20, $"{matchedOthers} strong hits of {hits}");
    }

    [Fact]
    public async Task MalformedBatches_AreRefused_AndRecordNothing()
    {
        var shard = fixture.Grains.GetGrain<IFingerprintShardGrain>(1_002);
        ulong[] hashes = [11, 22, 33, 44, 55, 66];
        ShardBatch[] malformed =
        [
            new(["evil", "evil"], [1, 2], [3], hashes),
            new(["evil", "evil"], [1, 2], [4, 3], hashes),
            new(["evil", "evil"], [1, 2], [3, 5], hashes),
            new(["evil", "evil"], [1, 2], [3, 7], hashes),
            new(["evil", null!], [1, 2], [3, 6], hashes),
            new(["evil"], [1], [-1], hashes),
        ];

        foreach (var batch in malformed)
        {
            var refused = await Assert.ThrowsAsync<ArgumentException>(() => shard.LookupAndAddAsync(batch));
            Assert.False(string.IsNullOrWhiteSpace(refused.Message));
        }

        // Had any of them recorded a query, another client's query of the same hashes would meet it.
        var answer = await shard.LookupAndAddAsync(new ShardBatch(["honest"], [9], [6], hashes));
        Assert.Empty(answer.Hits);

        var again = await shard.LookupAndAddAsync(new ShardBatch(["other"], [10], [6], hashes));
        Assert.Equal(new ShardMatch(0, "honest", 9, 6), Assert.Single(again.Hits));
    }

    /// <summary>
    /// 150 test images from three clients in turn, then a brightened copy of each of the first 50
    /// sent by the next client: shard 0's share of each fingerprint, as the front end splits them.
    /// </summary>
    private static (string Client, ulong Digest, ulong[] Share)[] Queries()
    {
        var fingerprinter = new BlacklightFingerprinter(new BlacklightOptions(), [.. Enumerable.Range(1, 32).Select(i => (byte)i)], FashionMnist.Pixels);
        string[] clients = ["alice", "bob", "carol"];
        var queries = new List<(string, ulong, ulong[])>();
        for (var i = 0; i < 150; i++)
        {
            queries.Add((clients[i % 3], (ulong)i + 1, Share(fingerprinter.Fingerprint(FashionMnist.TestImage(i), 0, 1))));
        }

        for (var i = 0; i < 50; i++)
        {
            var image = FashionMnist.TestImage(i);
            image[(i * 37) % image.Length] = Math.Min(1f, image[(i * 37) % image.Length] + 0.3f);
            queries.Add((clients[(i + 1) % 3], 1_000UL + (ulong)i, Share(fingerprinter.Fingerprint(image, 0, 1))));
        }

        return [.. queries];
    }

    private static ulong[] Share(ulong[] fingerprint) => [.. fingerprint.Where(h => h % Shards == 0)];

    private static ShardBatch Flat((string Client, ulong Digest, ulong[] Share)[] batch)
    {
        var ends = new int[batch.Length];
        var end = 0;
        for (var q = 0; q < batch.Length; q++)
        {
            end += batch[q].Share.Length;
            ends[q] = end;
        }

        return new ShardBatch([.. batch.Select(q => q.Client)], [.. batch.Select(q => q.Digest)], ends, [.. batch.SelectMany(q => q.Share)]);
    }
}
