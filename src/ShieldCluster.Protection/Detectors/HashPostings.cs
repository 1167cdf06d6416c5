namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// One shard of the cross-client Blacklight index: for each hash it holds, the recent queries (owner
/// and digest) whose fingerprints contain it. A query's hashes are spread over the shards by value,
/// so each shard sees only its share of every query; the caller sums the per-shard counts into the
/// number of hashes an earlier query shares with the new one. Bounded: past
/// <see cref="Capacity"/> postings, the oldest queries' postings are evicted.
/// </summary>
/// <typeparam name="TOwner">Who sent a query (a client id).</typeparam>
public sealed class HashPostings<TOwner>
    where TOwner : notnull
{
    private readonly Dictionary<ulong, Queue<Posting>> _byHash = [];
    private readonly Queue<(ulong[] Hashes, long Id)> _order = new();
    private readonly Dictionary<(TOwner, ulong), int> _counts = [];
    private long _nextId;

    /// <summary>Creates a shard holding at most <paramref name="capacity"/> postings.</summary>
    public HashPostings(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>The most postings held.</summary>
    public int Capacity { get; }

    /// <summary>Postings held.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// For each earlier query of another owner sharing any of <paramref name="hashes"/>: how many of
    /// them it shares. Then records the new query's hashes. Earlier queries with the same digest (the
    /// very same input) are returned too: they are no evidence, but they tell how popular the content is.
    /// </summary>
    public IReadOnlyList<(TOwner Owner, ulong Digest, int Shared)> LookupAndAdd(TOwner owner, ulong digest, ReadOnlySpan<ulong> hashes)
    {
        _counts.Clear();
        foreach (var hash in hashes)
        {
            if (_byHash.TryGetValue(hash, out var postings))
            {
                foreach (var posting in postings)
                {
                    if (!EqualityComparer<TOwner>.Default.Equals(posting.Owner, owner))
                    {
                        var key = (posting.Owner, posting.Digest);
                        _counts[key] = _counts.GetValueOrDefault(key) + 1;
                    }
                }
            }
        }

        var result = _counts.Select(c => (c.Key.Item1, c.Key.Item2, c.Value)).ToList();
        Add(owner, digest, hashes);
        return result;
    }

    private void Add(TOwner owner, ulong digest, ReadOnlySpan<ulong> hashes)
    {
        var id = _nextId++;
        var stored = hashes.ToArray();
        foreach (var hash in stored)
        {
            if (!_byHash.TryGetValue(hash, out var postings))
            {
                postings = new Queue<Posting>();
                _byHash[hash] = postings;
            }

            postings.Enqueue(new Posting(owner, digest, id));
        }

        _order.Enqueue((stored, id));
        Count += stored.Length;
        while (Count > Capacity)
        {
            var (oldest, oldestId) = _order.Dequeue();
            foreach (var hash in oldest)
            {
                var postings = _byHash[hash];
                // The oldest query's postings sit at the front of their queues.
                while (postings.Count > 0 && postings.Peek().Id <= oldestId)
                {
                    postings.Dequeue();
                    Count--;
                }

                if (postings.Count == 0)
                {
                    _byHash.Remove(hash);
                }
            }
        }
    }

    private readonly record struct Posting(TOwner Owner, ulong Digest, long Id);
}
