using Microsoft.Extensions.Options;
using ShieldCluster.Contracts;
using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Grains.Detection;

/// <summary>
/// One shard of the cluster-wide Blacklight index, held in memory: it covers the most recent
/// queries up to <see cref="DetectionOptions.CrossClientShardCapacity"/> postings and starts empty
/// after a restart (the per-client indexes, rebuilt from history, still stand).
/// </summary>
public sealed class FingerprintShardGrain(IOptions<DetectionOptions> options) : Grain, IFingerprintShardGrain
{
    private readonly HashPostings<string> _postings = new(options.Value.CrossClientShardCapacity);

    /// <inheritdoc />
    public Task<IReadOnlyList<ShardHit>> LookupAndAddAsync(string clientId, IReadOnlyList<ShardQuery> queries)
    {
        var hits = new List<ShardHit>();
        for (var q = 0; q < queries.Count; q++)
        {
            foreach (var (owner, digest, shared) in _postings.LookupAndAdd(clientId, queries[q].Digest, queries[q].Hashes))
            {
                hits.Add(new ShardHit(q, owner, digest, shared));
            }
        }

        return Task.FromResult<IReadOnlyList<ShardHit>>(hits);
    }
}
