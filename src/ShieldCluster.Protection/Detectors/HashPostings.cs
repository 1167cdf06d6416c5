using System.Numerics;
using System.Runtime.CompilerServices;

namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// One shard of the cross-client Blacklight index: for each hash it holds, the recent queries (owner
/// and digest) whose fingerprints contain it. A query's hashes are spread over the shards by value,
/// so each shard sees only its share of every query; the caller sums the per-shard counts into the
/// number of hashes an earlier query shares with the new one. Bounded: past
/// <see cref="Capacity"/> postings, the oldest queries' postings are evicted, and a hash keeps only
/// its <see cref="MaxPerHash"/> most recent queries. A hash that many recent queries share is a
/// common pattern (an edge every garment has), not evidence; without the cap its list would grow to
/// thousands and every lookup would walk it. An attack's steps are recent, so they stay in the lists.
/// </summary>
/// <remarks>
/// Stored flat (see <see cref="PostingBlocks{TOwner}"/>): rings of queries and postings (grown to fit)
/// and an open-addressing table from hash to a block holding its postings side by side (one cache
/// miss or two per hash looked up, not one per posting), so a lookup allocates only its
/// answer (nothing when no earlier query of another owner shares enough) and nothing it stores
/// outlives the query's eviction as garbage. A posting dropped for the per-hash cap leaves its
/// hash's block but stays in the postings ring until its query is evicted; it is not counted in
/// <see cref="Count"/> and no lookup sees it: eviction, the cap and the answers (their order
/// included) are as they were with a queue per hash. As before, postings dropped for the cap make room for more queries, so while
/// many queries share hashes the queries held (and the ring) can span more than
/// <see cref="Capacity"/> postings.
/// </remarks>
/// <typeparam name="TOwner">Who sent a query (a client id).</typeparam>
public sealed class HashPostings<TOwner>
    where TOwner : notnull
{
    private readonly PostingBlocks<TOwner> _chains;

    /// <summary>Creates a shard holding at most <paramref name="capacity"/> postings, <paramref name="maxPerHash"/> per hash.</summary>
    public HashPostings(int capacity, int maxPerHash = DefaultMaxPerHash)
        : this(capacity, maxPerHash, 0)
    {
    }

    /// <summary>As the public constructor, with the first sequence number given (tests start near its wrap-around).</summary>
    internal HashPostings(int capacity, int maxPerHash, uint firstSequence)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerHash, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxPerHash, MaxMaxPerHash);
        Capacity = capacity;
        MaxPerHash = maxPerHash;
        _chains = new PostingBlocks<TOwner>(maxPerHash, firstSequence);
    }

    /// <summary>The default for <see cref="MaxPerHash"/>.</summary>
    public const int DefaultMaxPerHash = 64;

    /// <summary>The largest <see cref="MaxPerHash"/> (a hash's block counts its postings in 16 bits).</summary>
    public const int MaxMaxPerHash = 1 << 15;

    /// <summary>The most postings held.</summary>
    public int Capacity { get; }

    /// <summary>The most recent queries a hash keeps.</summary>
    public int MaxPerHash { get; }

    /// <summary>Postings held.</summary>
    public int Count => _chains.Held;

    /// <summary>Bytes of the arrays the shard holds now (they grow with its contents, up to its capacity).</summary>
    internal long ReservedBytes => _chains.ReservedBytes;

    /// <summary>
    /// For each earlier query of another owner sharing at least <paramref name="minShared"/> of
    /// <paramref name="hashes"/>: how many of them it shares. Then records the new query's hashes.
    /// Earlier queries with the same digest (the very same input) are returned too: they are no
    /// evidence, but they tell how popular the content is.
    /// </summary>
    /// <remarks>
    /// A hash repeated in <paramref name="hashes"/> or in an earlier query counts once per pair of
    /// occurrences. The answer lists the earlier queries in the order they were first met: by the
    /// position of the first shared hash, then oldest first.
    /// </remarks>
    public IReadOnlyList<(TOwner Owner, ulong Digest, int Shared)> LookupAndAdd(TOwner owner, ulong digest, ReadOnlySpan<ulong> hashes, int minShared = 1)
    {
        List<(TOwner, ulong, int)>? found = null;
        LookupAndAdd(owner, digest, hashes, minShared, ref found);
        return found is null ? Array.Empty<(TOwner, ulong, int)>() : found;
    }

    /// <summary>
    /// As <see cref="LookupAndAdd(TOwner, ulong, ReadOnlySpan{ulong}, int)"/>, the answer appended
    /// to <paramref name="found"/> (a batch's lookups share one list, so a lookup allocates nothing).
    /// </summary>
    /// <returns>How many earlier queries were appended.</returns>
    public int LookupAndAdd(TOwner owner, ulong digest, ReadOnlySpan<ulong> hashes, int minShared, List<(TOwner Owner, ulong Digest, int Shared)> found)
    {
        ArgumentNullException.ThrowIfNull(found);
        var before = found.Count;
        List<(TOwner, ulong, int)>? list = found;
        LookupAndAdd(owner, digest, hashes, minShared, ref list);
        return found.Count - before;
    }

    private void LookupAndAdd(TOwner owner, ulong digest, ReadOnlySpan<ulong> hashes, int minShared, ref List<(TOwner, ulong, int)>? found)
    {
        // One pass and one table probe per hash: count the hash's earlier postings (per query, in a
        // flat array: no owner compared per posting), then add the new query's to the hash's block.
        // The owner's own queries are counted too, and left out below: only the few that reach the
        // threshold have their owner compared.
        var chains = _chains;
        chains.Reserve(hashes.Length);
        var query = chains.Append(digest, owner, hashes.Length);
        chains.PrefetchFor(hashes);
        foreach (var hash in hashes)
        {
            chains.TallyAndAdd(hash, query);
        }

        // The answer is read before any eviction: the new query may evict the very ones it matched.
        var least = Math.Max(minShared, 1);
        foreach (var slot in chains.Touched)
        {
            var shared = chains.TallyOf(slot);
            if (shared >= least && !IsOwn(chains.QueryAt(slot), owner))
            {
                ref readonly var earlier = ref chains.QueryAt(slot);
                (found ??= []).Add((earlier.Owner, earlier.Digest, shared));
            }
        }

        chains.ClearTallies();
        while (chains.Held > Capacity)
        {
            chains.EvictOldest();
        }
    }

    private static bool IsOwn(in IndexedQuery<TOwner> query, TOwner owner) =>
        EqualityComparer<TOwner>.Default.Equals(query.Owner, owner);
}
