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

    /// <summary>
    /// As the list form, flat: a batch in a few arrays however many queries it holds, answered in one
    /// array (no object per query or per hit). Hits refer to the queries by their index in the batch,
    /// in ascending query order.
    /// </summary>
    /// <remarks>
    /// The form this release's front ends call; the two above stay for front ends of the previous
    /// releases. A shard still on a silo of an earlier release does not know this form: during a
    /// rolling upgrade, a front end's batches to it fail (logged; those queries go without
    /// cross-client evidence, their clients' own detectors still see them) until its silo is upgraded.
    /// </remarks>
    /// <exception cref="ArgumentException">The batch's arrays do not agree (lengths, offsets, a missing client); nothing is recorded.</exception>
    [Alias("LookupAndAddFlatAsync")]
    Task<ShardAnswer> LookupAndAddAsync([Immutable] ShardBatch batch);
}

/// <summary>
/// A batch of queries for one shard, flat: query i was sent by <see cref="Clients"/>[i], has digest
/// <see cref="Digests"/>[i] and, of its fingerprint, this shard's share
/// <see cref="Hashes"/>[<see cref="Ends"/>[i - 1] .. <see cref="Ends"/>[i]] (from 0 for the first).
/// </summary>
/// <remarks>
/// A front end sends every shard the same <see cref="Clients"/> and <see cref="Digests"/> arrays
/// (never changed once sent, so a call within a silo passes them without a copy) and each its own
/// offsets and hashes.
/// </remarks>
[GenerateSerializer, Immutable, Alias("ShieldCluster.ShardBatch")]
public sealed record ShardBatch(
    [property: Id(0)] string[] Clients,
    [property: Id(1)] ulong[] Digests,
    [property: Id(2)] int[] Ends,
    [property: Id(3)] ulong[] Hashes)
{
    /// <summary>Why the arrays do not describe a batch, or null when they do.</summary>
    public string? Problem()
    {
        if (Clients is null || Digests is null || Ends is null || Hashes is null)
        {
            return "a batch needs its clients, digests, ends and hashes";
        }

        if (Digests.Length != Clients.Length || Ends.Length != Clients.Length)
        {
            return $"{Clients.Length} clients, {Digests.Length} digests and {Ends.Length} ends: one of each per query";
        }

        var start = 0;
        for (var q = 0; q < Ends.Length; q++)
        {
            if (Clients[q] is null)
            {
                return $"query {q} names no client";
            }

            if (Ends[q] < start || Ends[q] > Hashes.Length)
            {
                return $"query {q} ends at {Ends[q]}, outside {start}..{Hashes.Length}";
            }

            start = Ends[q];
        }

        return start == Hashes.Length ? null : $"the last query ends at {start} of {Hashes.Length} hashes";
    }
}

/// <summary>A shard's answer to a <see cref="ShardBatch"/>: its hits in ascending query order.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.ShardAnswer")]
public sealed record ShardAnswer([property: Id(0)] ShardMatch[] Hits);

/// <summary>An earlier query of another client sharing <see cref="Shared"/> of this shard's hashes with query <see cref="Query"/> of the batch.</summary>
[GenerateSerializer, Immutable, Alias("ShieldCluster.ShardMatch")]
public readonly record struct ShardMatch(
    [property: Id(0)] int Query,
    [property: Id(1)] string ClientId,
    [property: Id(2)] ulong Digest,
    [property: Id(3)] int Shared);

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
