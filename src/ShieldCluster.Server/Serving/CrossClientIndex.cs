using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Server.Serving;

/// <summary>
/// The cluster-wide Blacklight index: spreads each query's fingerprint hashes over the shard grains
/// by value (one call per shard per request), sums the shards' counts per earlier query of another
/// client, and reports to the client's grain how many items matched (their best match sharing more
/// than the match threshold) and whose queries they matched. Identical inputs (the same popular
/// image from many clients) never match.
/// </summary>
public sealed class CrossClientIndex(IGrainFactory grains, IOptions<DetectionOptions> detection)
{
    /// <summary>Looks up and records a served request's items, then reports the matches to the client's grain.</summary>
    public async Task CheckAsync(string clientId, IClientGrain client, QueryRecord record)
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

        var digests = record.Items.Select(i => i.Digest).ToArray();
        var shared = new Dictionary<(int Query, string Client, ulong Digest), int>();
        foreach (var hit in answers.SelectMany(a => a))
        {
            var key = (hit.Query, hit.ClientId, hit.Digest);
            shared[key] = shared.GetValueOrDefault(key) + hit.Shared;
        }

        // Per item: the other clients that sent the same or nearly the same content. Content sent by
        // many clients is popular (a picture everyone sends, and its re-encodings), not an attack;
        // otherwise a near (not identical) match to another client's query is evidence.
        var matches = shared.Where(s => s.Value > options.Blacklight.MatchThreshold)
            .GroupBy(s => s.Key.Query)
            .Where(g => g.Select(s => s.Key.Client).Distinct(StringComparer.Ordinal).Count() < options.PopularClients)
            .Select(g => g.Where(s => s.Key.Digest != digests[g.Key]).Select(s => s.Key.Client).Distinct(StringComparer.Ordinal).ToList())
            .Where(clients => clients.Count > 0)
            .ToList();
        var matchedItems = matches.Count;
        var others = matches.SelectMany(c => c).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(5).ToArray();
        await client.ReportCrossClientMatchesAsync(matchedItems, record.Items.Count, others);
    }
}
