using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
/// <typeparam name="TOwner">Who sent a query (a client id).</typeparam>
public sealed class HashPostings<TOwner>
    where TOwner : notnull
{
    // Most hashes belong to one recent query only: its posting sits inline in the slot, later ones in
    // a queue made only when the hash is shared (no queue object per hash per query).
    private readonly Dictionary<ulong, Slot> _byHash = [];
    private readonly Queue<(ulong[] Hashes, long Id)> _order = new();
    private readonly Dictionary<long, SharedCount> _counts = [];
    private long _nextId;

    /// <summary>Creates a shard holding at most <paramref name="capacity"/> postings, <paramref name="maxPerHash"/> per hash.</summary>
    public HashPostings(int capacity, int maxPerHash = DefaultMaxPerHash)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerHash, 1);
        Capacity = capacity;
        MaxPerHash = maxPerHash;
    }

    /// <summary>The default for <see cref="MaxPerHash"/>.</summary>
    public const int DefaultMaxPerHash = 64;

    /// <summary>The most postings held.</summary>
    public int Capacity { get; }

    /// <summary>The most recent queries a hash keeps.</summary>
    public int MaxPerHash { get; }

    /// <summary>Postings held.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// For each earlier query of another owner sharing at least <paramref name="minShared"/> of
    /// <paramref name="hashes"/>: how many of them it shares. Then records the new query's hashes.
    /// Earlier queries with the same digest (the very same input) are returned too: they are no
    /// evidence, but they tell how popular the content is.
    /// </summary>
    public IReadOnlyList<(TOwner Owner, ulong Digest, int Shared)> LookupAndAdd(TOwner owner, ulong digest, ReadOnlySpan<ulong> hashes, int minShared = 1)
    {
        // One pass and one hash-table probe per hash: count the queue's earlier queries (per query
        // id: a cheap key, no owner hashing per posting), then append the new query to it.
        _counts.Clear();
        var id = _nextId++;
        var stored = hashes.ToArray();
        foreach (var hash in stored)
        {
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_byHash, hash, out var exists);
            if (!exists)
            {
                slot.First = new Posting(owner, digest, id);
                continue;
            }

            Tally(in slot.First, owner);
            if (slot.Rest is { } rest)
            {
                foreach (var posting in rest)
                {
                    Tally(in posting, owner);
                }
            }

            if (1 + (slot.Rest?.Count ?? 0) >= MaxPerHash)
            {
                Count--;
                if (!Dequeue(ref slot))
                {
                    // A cap of one: the new query takes the only place.
                    slot.First = new Posting(owner, digest, id);
                    continue;
                }
            }

            (slot.Rest ??= new Queue<Posting>(2)).Enqueue(new Posting(owner, digest, id));
        }

        var result = new List<(TOwner, ulong, int)>();
        foreach (var count in _counts.Values)
        {
            if (count.Shared >= minShared)
            {
                result.Add((count.Owner, count.Digest, count.Shared));
            }
        }

        Evict(stored, id);
        return result;
    }

    private void Evict(ulong[] stored, long id)
    {
        _order.Enqueue((stored, id));
        Count += stored.Length;
        while (Count > Capacity)
        {
            var (oldest, oldestId) = _order.Dequeue();
            foreach (var hash in oldest)
            {
                ref var slot = ref CollectionsMarshal.GetValueRefOrNullRef(_byHash, hash);
                if (Unsafe.IsNullRef(ref slot))
                {
                    continue;
                }

                // The oldest query's postings sit at the front of their queues.
                var empty = false;
                while (!empty && slot.First.Id <= oldestId)
                {
                    empty = !Dequeue(ref slot);
                    Count--;
                }

                if (empty)
                {
                    _byHash.Remove(hash);
                }
            }
        }
    }

    /// <summary>Drops a slot's oldest posting; false when none is left.</summary>
    private static bool Dequeue(ref Slot slot)
    {
        if (slot.Rest is not { Count: > 0 } rest)
        {
            return false;
        }

        slot.First = rest.Dequeue();
        if (rest.Count == 0)
        {
            slot.Rest = null;
        }

        return true;
    }

    private void Tally(in Posting posting, TOwner owner)
    {
        if (EqualityComparer<TOwner>.Default.Equals(posting.Owner, owner))
        {
            return;
        }

        ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(_counts, posting.Id, out var seen);
        if (!seen)
        {
            count.Owner = posting.Owner;
            count.Digest = posting.Digest;
        }

        count.Shared++;
    }

    private readonly record struct Posting(TOwner Owner, ulong Digest, long Id);

    private struct Slot
    {
        public Posting First;
        public Queue<Posting>? Rest;
    }

    private struct SharedCount
    {
        public TOwner Owner;
        public ulong Digest;
        public int Shared;
    }
}
