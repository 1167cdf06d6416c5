namespace ShieldCluster.Contracts;

/// <summary>
/// One shard of the cluster-wide Blacklight index (key: shard number). Each query's fingerprint
/// hashes are spread over the shards by value; a shard answers, for its share of the hashes, which
/// earlier queries of other clients share them, so an attack spread over many API keys is seen.
/// </summary>
[Alias("ShieldCluster.IFingerprintShardGrain")]
public interface IFingerprintShardGrain : IGrainWithIntegerKey
{
    /// <summary>Looks up, then records, a client's queries (this shard's share of their hashes).</summary>
    [Alias("LookupAndAddAsync")]
    Task<IReadOnlyList<ShardHit>> LookupAndAddAsync(string clientId, IReadOnlyList<ShardQuery> queries);
}

/// <summary>A query's digest and the hashes of its fingerprint that fall in one shard.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.ShardQuery")]
public sealed record ShardQuery([property: Id(0)] ulong Digest, [property: Id(1)] ulong[] Hashes);

/// <summary>An earlier query of another client sharing hashes with query <see cref="Query"/> of the request.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.ShardHit")]
public sealed record ShardHit(
    [property: Id(0)] int Query,
    [property: Id(1)] string ClientId,
    [property: Id(2)] ulong Digest,
    [property: Id(3)] int Shared);
