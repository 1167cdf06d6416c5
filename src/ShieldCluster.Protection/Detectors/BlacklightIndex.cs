using System.Runtime.InteropServices;

namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// An index of recent fingerprints (hash -> the queries holding it) that finds, for a new query, the
/// earlier query sharing the most hashes. Bounded: the oldest fingerprint is evicted past
/// <see cref="BlacklightOptions.IndexCapacity"/>. Queries with the same digest as the new one (an
/// identical resend, or the same popular image from another client) are not matches.
/// </summary>
/// <typeparam name="TOwner">What an entry remembers about its query's sender (a client id, or nothing).</typeparam>
public sealed class BlacklightIndex<TOwner>
{
    // Most window hashes belong to one query only: the first id sits inline, later ones in a queue
    // made only when a hash is shared (a full index of 1,000 queries x 50 hashes is ~2 MB, not ~6).
    private readonly Dictionary<ulong, Postings> _byHash = [];
    private readonly Dictionary<long, Entry> _entries = [];
    private readonly Queue<long> _order = new();
    private readonly Dictionary<long, int> _counts = [];
    private readonly int _capacity;
    private long _nextId;

    /// <summary>Creates an index holding at most <paramref name="capacity"/> fingerprints.</summary>
    public BlacklightIndex(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    /// <summary>Fingerprints held.</summary>
    public int Count => _entries.Count;

    /// <summary>The earlier query sharing the most hashes with <paramref name="fingerprint"/> (digest differing), if any shares one.</summary>
    public BlacklightMatch<TOwner>? BestMatch(ReadOnlySpan<ulong> fingerprint, ulong digest)
    {
        _counts.Clear();
        foreach (var hash in fingerprint)
        {
            if (_byHash.TryGetValue(hash, out var ids))
            {
                CollectionsMarshal.GetValueRefOrAddDefault(_counts, ids.First, out _)++;
                if (ids.Rest is { } rest)
                {
                    foreach (var id in rest)
                    {
                        CollectionsMarshal.GetValueRefOrAddDefault(_counts, id, out _)++;
                    }
                }
            }
        }

        BlacklightMatch<TOwner>? best = null;
        foreach (var (id, shared) in _counts)
        {
            var entry = _entries[id];
            if (entry.Digest != digest && (best is null || shared > best.Value.Shared))
            {
                best = new BlacklightMatch<TOwner>(shared, entry.Owner, entry.Digest);
            }
        }

        return best;
    }

    /// <summary>Adds a fingerprint, evicting the oldest past capacity.</summary>
    public void Add(ReadOnlySpan<ulong> fingerprint, ulong digest, TOwner owner)
    {
        var id = _nextId++;
        var hashes = fingerprint.ToArray();
        _entries[id] = new Entry(hashes, digest, owner);
        _order.Enqueue(id);
        foreach (var hash in hashes)
        {
            // One hash-table probe per hash: the slot is updated in place.
            ref var ids = ref CollectionsMarshal.GetValueRefOrAddDefault(_byHash, hash, out var exists);
            if (exists)
            {
                (ids.Rest ??= new Queue<long>(2)).Enqueue(id);
            }
            else
            {
                ids = new Postings(id, null);
            }
        }

        while (_entries.Count > _capacity)
        {
            Evict(_order.Dequeue());
        }
    }

    private void Evict(long id)
    {
        var entry = _entries[id];
        _entries.Remove(id);
        foreach (var hash in entry.Hashes)
        {
            // The evicted entry is the oldest, so it is the first posting of every hash it has.
            ref var ids = ref CollectionsMarshal.GetValueRefOrNullRef(_byHash, hash);
            if (ids.Rest is not { Count: > 0 } rest)
            {
                _byHash.Remove(hash);
            }
            else
            {
                ids = new Postings(rest.Dequeue(), rest.Count == 0 ? null : rest);
            }
        }
    }

    /// <summary>The ids of the queries with one hash, oldest first.</summary>
    private record struct Postings(long First, Queue<long>? Rest);

    private sealed record Entry(ulong[] Hashes, ulong Digest, TOwner Owner);
}

/// <summary>The best match of a query in an index.</summary>
/// <param name="Shared">Hashes shared with the earlier query.</param>
/// <param name="Owner">Who sent the earlier query.</param>
/// <param name="Digest">The earlier query's digest.</param>
public readonly record struct BlacklightMatch<TOwner>(int Shared, TOwner Owner, ulong Digest);
