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
    /// <summary>
    /// Earlier queries sharing a single hash of this shard's share are left out of the answer: a lone
    /// shared window is a common pattern, and leaving such pairs out keeps the answer small. A near
    /// duplicate shares most of its hashes in every shard, so a match's summed count is short by at
    /// most one per shard, and only where a shard saw just one.
    /// </summary>
    private const int MinShared = 2;

    private readonly HashPostings<string> _postings = new(options.Value.CrossClientShardCapacity, options.Value.CrossClientPostingsPerHash);

    /// <inheritdoc />
    public Task<IReadOnlyList<ShardHit>> LookupAndAddAsync(string clientId, IReadOnlyList<ShardQuery> queries) =>
        Task.FromResult<IReadOnlyList<ShardHit>>(LookupAndAdd(queries, clientId));

    /// <inheritdoc />
    public Task<IReadOnlyList<ShardHit>> LookupAndAddAsync(IReadOnlyList<ShardQuery> queries) =>
        Task.FromResult<IReadOnlyList<ShardHit>>(LookupAndAdd(queries, null));

    private List<ShardHit> LookupAndAdd(IReadOnlyList<ShardQuery> queries, string? clientId)
    {
        var hits = new List<ShardHit>();
        for (var q = 0; q < queries.Count; q++)
        {
            var owner = clientId ?? queries[q].ClientId ?? throw new ArgumentException($"query {q} names no client", nameof(queries));
            foreach (var (other, digest, shared) in _postings.LookupAndAdd(owner, queries[q].Digest, queries[q].Hashes, MinShared))
            {
                hits.Add(new ShardHit(q, other, digest, shared));
            }
        }

        return hits;
    }
}
