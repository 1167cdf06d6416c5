using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Server.Serving;

/// <summary>
/// The cluster-wide Blacklight index: spreads each query's fingerprint hashes over the shard grains
/// by value (one call per shard per request), sums the shards' counts per earlier query of another
/// client, and marks the items whose best match shares more than the match threshold. Identical
/// inputs (the same popular image from many clients) never match.
/// </summary>
public sealed class CrossClientIndex(IGrainFactory grains, IOptions<DetectionOptions> detection)
{
    /// <summary>The record with each item's cross-client match (if any) filled in.</summary>
    public async Task<QueryRecord> AnnotateAsync(string clientId, QueryRecord record)
    {
        var options = detection.Value;
        var shards = options.CrossClientShards;
        var split = new List<ShardQuery>[shards];
        for (var s = 0; s < shards; s++)
        {
            split[s] = new List<ShardQuery>(record.Items.Count);
        }

        var buckets = new List<ulong>[shards];
        foreach (var item in record.Items)
        {
            for (var s = 0; s < shards; s++)
            {
                buckets[s] = [];
            }

            foreach (var hash in item.Fingerprint ?? [])
            {
                buckets[(int)(hash % (ulong)shards)].Add(hash);
            }

            for (var s = 0; s < shards; s++)
            {
                split[s].Add(new ShardQuery(item.Digest, [.. buckets[s]]));
            }
        }

        var answers = await Task.WhenAll(Enumerable.Range(0, shards)
            .Select(s => grains.GetGrain<IFingerprintShardGrain>(s).LookupAndAddAsync(clientId, split[s])));

        var shared = new Dictionary<(int Query, string Client, ulong Digest), int>();
        foreach (var hit in answers.SelectMany(a => a))
        {
            var key = (hit.Query, hit.ClientId, hit.Digest);
            shared[key] = shared.GetValueOrDefault(key) + hit.Shared;
        }

        if (shared.Count == 0)
        {
            return record;
        }

        var items = record.Items.ToArray();
        foreach (var group in shared.Where(s => s.Value > options.Blacklight.MatchThreshold).GroupBy(s => s.Key.Query))
        {
            var best = group.MaxBy(s => s.Value);
            items[group.Key] = items[group.Key] with { CrossClientMatch = best.Key.Client };
        }

        return record with { Items = items };
    }
}
