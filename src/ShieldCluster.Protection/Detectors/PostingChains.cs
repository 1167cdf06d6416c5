using System.Runtime.CompilerServices;

namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// The flat store behind <see cref="BlacklightIndex{TOwner}"/> (a shard, <see cref="HashPostings{TOwner}"/>, uses <see cref="PostingBlocks{TOwner}"/>):
/// recent queries and their postings (query, hash), with every hash's postings chained newest first.
/// </summary>
/// <remarks>
/// <para>
/// Queries and postings get increasing 32-bit sequence numbers and live in power-of-two rings indexed
/// by them; the live ones are a contiguous range of each (the oldest query is evicted first, and a
/// query's postings are consecutive). A posting holds its hash, its query's number and the number of
/// the hash's previous posting; an open-addressing table (linear probing, backward-shift deletion)
/// maps a hash to its newest posting. A chain is walked newest first and ends at the first posting
/// older than the oldest live one: evicted postings are never unlinked, never read. A chain's first
/// posting links to one already dead. Numbers wrap around; they are compared by their difference,
/// which the rings' size bounds far below 2^31.
/// </para>
/// <para>
/// A posting past the per-hash cap is dropped by marking it (it links to itself): only the newest
/// <c>maxPerHash</c> postings of a hash are ever walked, so a dropped one is never reached, and when
/// its query is evicted it is neither counted again nor looked up. When a query is evicted, a table
/// entry pointing at one of its postings (the hash's newest) is removed, so the table holds exactly
/// the live hashes.
/// </para>
/// <para>
/// Counts per earlier query go to an array indexed by the query's ring slot, with the list of the
/// slots touched (in the order first met, as a dictionary's insertion order was) to read and reset.
/// Every array starts small and doubles when a query would not fit, so a client that sent three
/// queries holds a few kilobytes; once the rings have grown, adding and looking up allocate nothing.
/// The table's entries are 8 bytes: a 32-bit tag of the hash (never 0, which marks a free entry) and
/// the newest posting's number; the full hash is compared on the posting, which a lookup reads anyway.
/// The table is kept at most half full (3/4 while small): linear probing's runs (every insert,
/// lookup of an absent hash and deletion walks one) stay short. At 13/16, a full client index (1,000
/// queries, 47,000 distinct hashes) fitted in half the table (1.6 MB in all, not 2.1) but added and
/// evicted 30% slower.
/// </para>
/// </remarks>
/// <typeparam name="TOwner">What a query remembers about its sender.</typeparam>
internal sealed class PostingChains<TOwner>
{
    /// <summary>No cap on the postings per hash.</summary>
    public const int Uncapped = int.MaxValue;

    private const int MinQueries = 8;
    private const int MinPostings = 64;
    private const int MinHeads = 16;
    private const int SmallHeads = 4_096;

    private readonly int _maxPerHash;
    private IndexedQuery<TOwner>[] _queries = [];
    private Posting[] _postings = [];
    private Head[] _heads = [];
    private int _headCount;
    private int _headShift;
    private int[] _tallies = [];
    private int[] _touched = [];
    private int _touchedCount;
    private uint _oldestQuery;
    private uint _nextQuery;
    private uint _oldestPosting;
    private uint _nextPosting;

    /// <summary>Creates an empty store (nothing allocated until the first query).</summary>
    public PostingChains(int maxPerHash, uint firstSequence = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerHash, 1);
        _maxPerHash = maxPerHash;
        _oldestQuery = _nextQuery = firstSequence;
        _oldestPosting = _nextPosting = firstSequence;
    }

    /// <summary>Queries held.</summary>
    public int Queries => (int)(_nextQuery - _oldestQuery);

    /// <summary>Postings held, those dropped for the per-hash cap left out.</summary>
    public int Held { get; private set; }

    /// <summary>The ring slots of the queries the current lookup met, in the order first met.</summary>
    public ReadOnlySpan<int> Touched => _touched.AsSpan(0, _touchedCount);

    /// <summary>Bytes of the arrays held now.</summary>
    public long ReservedBytes =>
        ((long)_queries.Length * Unsafe.SizeOf<IndexedQuery<TOwner>>()) + ((long)_postings.Length * Unsafe.SizeOf<Posting>())
        + ((long)_heads.Length * Unsafe.SizeOf<Head>()) + ((long)(_tallies.Length + _touched.Length) * sizeof(int));

    /// <summary>The current lookup's count for the query in <paramref name="slot"/>.</summary>
    public int TallyOf(int slot) => _tallies[slot];

    /// <summary>The query in ring slot <paramref name="slot"/>.</summary>
    public ref readonly IndexedQuery<TOwner> QueryAt(int slot) => ref _queries[slot];

    /// <summary>Makes room for one more query of <paramref name="length"/> postings (before <see cref="Append"/>).</summary>
    public void Reserve(int length)
    {
        if (Queries + 1 > _queries.Length)
        {
            GrowQueries(Queries + 1);
        }

        var postings = (long)(_nextPosting - _oldestPosting) + length;
        if (postings > _postings.Length)
        {
            GrowPostings(postings);
        }

        // Sized for the worst case, every hash new, so no growth happens within the query.
        if ((long)_headCount + length > MaxHeads(_heads.Length))
        {
            GrowHeads((long)_headCount + length);
        }
    }

    /// <summary>Adds a query of <paramref name="length"/> postings (linked next, one call per hash); returns its number.</summary>
    public uint Append(ulong digest, TOwner owner, int length)
    {
        var query = _nextQuery++;
        _queries[query & (uint)(_queries.Length - 1)] = new IndexedQuery<TOwner>(digest, owner, _nextPosting, length);
        return query;
    }

    /// <summary>Links the next posting of <paramref name="query"/>, for <paramref name="hash"/>.</summary>
    public void Link(ulong hash, uint query)
    {
        var tag = Tag(hash);
        LinkAt(hash, query, tag, Find(hash, tag));
    }

    /// <summary>Links the next posting of <paramref name="query"/> at <paramref name="index"/>, as <see cref="Find"/> gave it for <paramref name="hash"/>.</summary>
    private void LinkAt(ulong hash, uint query, uint tag, int index)
    {
        var posting = _nextPosting++;
        uint previous;
        if (index >= 0)
        {
            previous = _heads[index].Posting;
            _heads[index].Posting = posting;
        }
        else
        {
            previous = _oldestPosting - 1;
            _heads[~index] = new Head { Tag = tag, Posting = posting };
            _headCount++;
        }

        _postings[posting & (uint)(_postings.Length - 1)] = new Posting(hash, previous, query);
        Held++;
    }

    /// <summary>Counts, for every query holding some of <paramref name="hashes"/>, the pairs of equal hashes; stores nothing.</summary>
    public void Tally(ReadOnlySpan<ulong> hashes)
    {
        if (_headCount == 0)
        {
            return;
        }

        var mask = (uint)(_postings.Length - 1);
        foreach (var hash in hashes)
        {
            var index = Find(hash, Tag(hash));
            if (index < 0)
            {
                continue;
            }

            var first = _touchedCount;
            var at = _heads[index].Posting;
            var seen = 0;
            do
            {
                ref readonly var earlier = ref _postings[at & mask];
                Touch(earlier.Query);
                at = earlier.Previous;
            }
            while (IsLive(at) && ++seen < _maxPerHash);

            _touched.AsSpan(first, _touchedCount - first).Reverse();
        }
    }

    /// <summary>
    /// <see cref="Tally"/> of <paramref name="hashes"/> and <see cref="Link"/> of each for
    /// <paramref name="query"/> (just appended), with one probe of the table per hash instead of
    /// two: the counts are those <see cref="Tally"/> gives before the query is linked (its own
    /// postings, met when a hash repeats in it, are passed over and not counted), in the same order.
    /// </summary>
    public void TallyAndLink(ReadOnlySpan<ulong> hashes, uint query)
    {
        var mask = (uint)(_postings.Length - 1);

        // The hashes are independent: their table entries, then their newest postings, are asked
        // for together before any is read (see Prefetch).
        foreach (var hash in hashes)
        {
            Prefetch.Line(in _heads[Home(Tag(hash))]);
        }

        var headMask = _heads.Length - 1;
        foreach (var hash in hashes)
        {
            // The first entry with the hash's tag (its hash is not compared: that is the load asked for).
            var tag = Tag(hash);
            for (var index = Home(tag); _heads[index].Tag != 0; index = (index + 1) & headMask)
            {
                if (_heads[index].Tag == tag)
                {
                    Prefetch.Line(in _postings[_heads[index].Posting & mask]);
                    break;
                }
            }
        }

        foreach (var hash in hashes)
        {
            var tag = Tag(hash);
            var index = Find(hash, tag);
            if (index >= 0)
            {
                var first = _touchedCount;
                var at = _heads[index].Posting;
                var seen = 0;
                do
                {
                    ref readonly var earlier = ref _postings[at & mask];
                    if (earlier.Query != query)
                    {
                        Touch(earlier.Query);
                        seen++;
                    }

                    at = earlier.Previous;
                }
                while (IsLive(at) && seen < _maxPerHash);

                _touched.AsSpan(first, _touchedCount - first).Reverse();
            }

            LinkAt(hash, query, tag, index);
        }
    }

    /// <summary>Resets the counts of the current lookup.</summary>
    public void ClearTallies()
    {
        foreach (var slot in Touched)
        {
            _tallies[slot] = 0;
        }

        _touchedCount = 0;
    }

    /// <summary>Evicts the oldest query and its postings.</summary>
    public void EvictOldest()
    {
        ref var query = ref _queries[_oldestQuery++ & (uint)(_queries.Length - 1)];
        var mask = (uint)(_postings.Length - 1);
        for (var k = 0; k < query.Length; k++)
        {
            var posting = query.FirstPosting + (uint)k;
            ref readonly var evicted = ref _postings[posting & mask];
            if (evicted.Previous != posting)
            {
                Prefetch.Line(in _heads[Home(Tag(evicted.Hash))]);
            }
        }

        for (var k = 0; k < query.Length; k++)
        {
            var posting = query.FirstPosting + (uint)k;
            ref readonly var evicted = ref _postings[posting & mask];
            if (evicted.Previous == posting)
            {
                // Dropped for the cap already: no longer counted, and never a hash's newest.
                continue;
            }

            Held--;

            // The hash's newest posting being evicted, its whole chain is dead: free the entry.
            var index = FindHead(Tag(evicted.Hash), posting);
            if (index >= 0)
            {
                RemoveHead(index);
            }
        }

        _oldestPosting = query.FirstPosting + (uint)query.Length;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TOwner>())
        {
            query.Owner = default!;
        }
    }

    private bool IsLive(uint posting) => (int)(posting - _oldestPosting) >= 0;

    private void Touch(uint query)
    {
        var slot = (int)(query & (uint)(_queries.Length - 1));
        ref var tally = ref _tallies[slot];
        if (tally == 0)
        {
            _touched[_touchedCount++] = slot;
        }

        tally++;
    }

    /// <summary>
    /// 32 bits of the hash, never 0. Fingerprints keep their largest hashes, so the high bits are
    /// mostly ones, and a shard's share has equal low bits: both halves are folded in.
    /// </summary>
    private static uint Tag(ulong hash) => (uint)(hash ^ (hash >> 32)) | 1u;

    /// <summary>The tag's home entry.</summary>
    private int Home(uint tag) => LinearProbe.Home(tag, _headShift);

    /// <summary>
    /// The most entries a table of <paramref name="entries"/> may hold: half, or 3/4 while it is small
    /// enough to stay in cache (longer runs cost little there, and the many small clients hold less).
    /// </summary>
    private static long MaxHeads(int entries) => entries <= SmallHeads ? entries / 4 * 3 : entries / 2;

    /// <summary>The hash's entry, or the complement of the free entry where it would go.</summary>
    private int Find(ulong hash, uint tag)
    {
        var mask = _heads.Length - 1;
        for (var index = Home(tag); ; index = (index + 1) & mask)
        {
            ref readonly var head = ref _heads[index];
            if (head.Tag == 0)
            {
                return ~index;
            }

            // The newest posting is live, so its slot holds the hash to compare.
            if (head.Tag == tag && _postings[head.Posting & (uint)(_postings.Length - 1)].Hash == hash)
            {
                return index;
            }
        }
    }

    /// <summary>
    /// The entry whose newest posting is <paramref name="posting"/>, or -1: posting numbers are
    /// unique, so no hash is compared (eviction reads no other posting).
    /// </summary>
    private int FindHead(uint tag, uint posting)
    {
        var mask = _heads.Length - 1;
        for (var index = Home(tag); ; index = (index + 1) & mask)
        {
            ref readonly var head = ref _heads[index];
            if (head.Tag == 0)
            {
                return -1;
            }

            if (head.Posting == posting && head.Tag == tag)
            {
                return index;
            }
        }
    }

    private void RemoveHead(int hole)
    {
        LinearProbe.Remove(_heads, hole, _headShift);
        _headCount--;
    }

    private void GrowQueries(int needed)
    {
        var queries = LinearProbe.GrowRing(_queries, _oldestQuery, _nextQuery, needed, MinQueries);

        // Counts are all zero between lookups, so the new arrays start as the old ones stand.
        _queries = queries;
        _tallies = new int[queries.Length];
        _touched = new int[queries.Length];
    }

    private void GrowPostings(long needed)
    {
        _postings = LinearProbe.GrowRing(_postings, _oldestPosting, _nextPosting, needed, MinPostings);
    }

    private void GrowHeads(long needed)
    {
        var size = LinearProbe.RingSize(needed, _heads.Length, MinHeads);
        while (MaxHeads(size) < needed)
        {
            size *= 2;
        }

        _headShift = LinearProbe.Shift(size);
        _heads = LinearProbe.Rehash(_heads, size, _headShift);
    }

    /// <summary>A hash of a query, linked to the hash's previous posting (itself when dropped for the cap).</summary>
    private struct Posting(ulong hash, uint previous, uint query)
    {
        public readonly ulong Hash = hash;
        public uint Previous = previous;
        public readonly uint Query = query;
    }

    /// <summary>A table entry: a tag of the hash (0: free) and its newest posting.</summary>
    private struct Head : IProbeEntry
    {
        public uint Tag;
        public uint Posting;

        public readonly bool IsFree => Tag == 0;

        public readonly uint Key => Tag;
    }
}
