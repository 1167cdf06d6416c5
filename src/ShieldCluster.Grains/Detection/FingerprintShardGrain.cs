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

    // The owner is a struct around the client id: the index's code is then compiled for it, where a
    // string (a reference type) would run the index through code shared by every reference type,
    // with a run-time lookup in the way of inlining (10-15% of a lookup's time, measured).
    private readonly HashPostings<Owner> _postings = new(options.Value.CrossClientShardCapacity, options.Value.CrossClientPostingsPerHash);

    // One query's answer, reused: the flat form allocates only the batch's answer array.
    private readonly List<(Owner Owner, ulong Digest, int Shared)> _found = [];
    private readonly List<ShardMatch> _hits = [];

    /// <inheritdoc />
    public Task<IReadOnlyList<ShardHit>> LookupAndAddAsync(string clientId, IReadOnlyList<ShardQuery> queries) =>
        Task.FromResult<IReadOnlyList<ShardHit>>(LookupAndAdd(queries, clientId));

    /// <inheritdoc />
    public Task<IReadOnlyList<ShardHit>> LookupAndAddAsync(IReadOnlyList<ShardQuery> queries) =>
        Task.FromResult<IReadOnlyList<ShardHit>>(LookupAndAdd(queries, null));

    /// <inheritdoc />
    public Task<ShardAnswer> LookupAndAddAsync(ShardBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(batch));
        }

        _hits.Clear();
        var start = 0;
        for (var q = 0; q < batch.Ends.Length; q++)
        {
            var end = batch.Ends[q];
            _found.Clear();
            _postings.LookupAndAdd(new Owner(batch.Clients[q]), batch.Digests[q], batch.Hashes.AsSpan(start, end - start), MinShared, _found);
            foreach (var (other, digest, shared) in _found)
            {
                _hits.Add(new ShardMatch(q, other.ClientId, digest, shared));
            }

            start = end;
        }

        return Task.FromResult(new ShardAnswer([.. _hits]));
    }

    private List<ShardHit> LookupAndAdd(IReadOnlyList<ShardQuery> queries, string? clientId)
    {
        // Checked first, so a batch with a query naming no client records none of it.
        for (var q = 0; q < queries.Count; q++)
        {
            if ((clientId ?? queries[q].ClientId) is null)
            {
                throw new ArgumentException($"query {q} names no client", nameof(queries));
            }
        }

        var hits = new List<ShardHit>();
        for (var q = 0; q < queries.Count; q++)
        {
            var owner = new Owner(clientId ?? queries[q].ClientId!);
            _found.Clear();
            _postings.LookupAndAdd(owner, queries[q].Digest, queries[q].Hashes, MinShared, _found);
            foreach (var (other, digest, shared) in _found)
            {
                hits.Add(new ShardHit(q, other.ClientId, digest, shared));
            }
        }

        return hits;
    }

    /// <summary>Who sent a query: a client id (compared ordinally).</summary>
    private readonly record struct Owner(string ClientId);
}
