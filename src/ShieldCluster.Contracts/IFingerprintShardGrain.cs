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
    /// <remarks>The previous release's single-client form, kept so a mixed-version cluster keeps working.</remarks>
    [Alias("LookupAndAddAsync")]
    Task<IReadOnlyList<ShardHit>> LookupAndAddAsync(string clientId, IReadOnlyList<ShardQuery> queries);

    /// <summary>
    /// Looks up, then records, a batch of queries of any clients (each names its client); hits refer
    /// to the queries by their index in <paramref name="queries"/>.
    /// </summary>
    /// <remarks>
    /// The hits are in ascending query order. The batch is not changed once sent, so a call within
    /// a silo passes it without a copy.
    /// </remarks>
    [Alias("LookupAndAddBatchAsync")]
    Task<IReadOnlyList<ShardHit>> LookupAndAddAsync([Immutable] IReadOnlyList<ShardQuery> queries);
}

/// <summary>A query's digest and the hashes of its fingerprint that fall in one shard, with the client that sent it in a batch.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.ShardQuery")]
public sealed record ShardQuery([property: Id(0)] ulong Digest, [property: Id(1)] ulong[] Hashes, [property: Id(2)] string? ClientId = null);

/// <summary>An earlier query of another client sharing hashes with query <see cref="Query"/> of the request.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.ShardHit")]
public sealed record ShardHit(
    [property: Id(0)] int Query,
    [property: Id(1)] string ClientId,
    [property: Id(2)] ulong Digest,
    [property: Id(3)] int Shared);
