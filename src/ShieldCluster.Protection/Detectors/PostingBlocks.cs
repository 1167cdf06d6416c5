using System.Numerics;
using System.Runtime.CompilerServices;

namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// The flat store behind <see cref="HashPostings{TOwner}"/>: recent queries and, per hash, the
/// numbers of the live queries holding it, oldest first, side by side in one block.
/// </summary>
/// <remarks>
/// <para>
/// Queries and postings get increasing 32-bit sequence numbers and live in power-of-two rings indexed
/// by them (the oldest query is evicted first; a query's postings are consecutive, and the postings
/// ring keeps only their hashes, for eviction). An open-addressing table (linear probing,
/// backward-shift deletion) maps a hash to its block in a pooled array of query numbers, a ring of
/// 1, 2, 4, ... entries (up to the cap rounded up to a power of two) that moves to one twice its size
/// when full. A lookup reads the table entry (it holds the full hash, so no other memory is compared)
/// and the block: a hash's postings are contiguous (at the default cap, at most 256 bytes), where a
/// chain linked through the postings ring costs a cache miss per posting on a large shard.
/// </para>
/// <para>
/// At the cap the oldest number in the block is overwritten. An evicted query's posting, if not
/// dropped so, is the oldest of its hash's block: it leaves, and a block left empty is freed (each
/// size keeps a list of free blocks threaded through them) with its table entry. Once the arrays have
/// grown, adding and looking up allocate nothing.
/// </para>
/// <para>
/// Counts per earlier query go to an array indexed by the query's ring slot, with the list of the
/// slots touched in the order first met (per hash oldest first, as a queue per hash met them). The
/// owner is not compared here: the caller leaves out its own queries when reading the counts, so a
/// posting costs a read of the block and of one count.
/// </para>
/// </remarks>
/// <typeparam name="TOwner">What a query remembers about its sender.</typeparam>
internal sealed class PostingBlocks<TOwner>
{
    private const int MinQueries = 8;
    private const int MinPostings = 64;
    private const int MinHeads = 16;
    private const int SmallHeads = 4_096;
    private const int MinPool = 1_024;

    private readonly int _maxPerHash;
    private readonly int _maxLog;
    private IndexedQuery<TOwner>[] _queries = [];
    private ulong[] _hashes = [];
    private Head[] _heads = [];
    private int _headCount;
    private int _headShift;
    private uint[] _pool = [];
    private int _poolUsed;
    private readonly int[] _freeHead;
    private int[] _tallies = [];
    private int[] _touched = [];
    private int _touchedCount;
    private uint _oldestQuery;
    private uint _nextQuery;
    private uint _oldestPosting;
    private uint _nextPosting;

    /// <summary>Creates an empty store (nothing allocated until the first query); at most 32,768 postings per hash.</summary>
    public PostingBlocks(int maxPerHash, uint firstSequence = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerHash, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxPerHash, 1 << 15);
        _maxPerHash = maxPerHash;
        _maxLog = BitOperations.Log2(BitOperations.RoundUpToPowerOf2((uint)maxPerHash));
        _freeHead = new int[_maxLog + 1];
        Array.Fill(_freeHead, -1);
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
        ((long)_queries.Length * Unsafe.SizeOf<IndexedQuery<TOwner>>()) + ((long)_hashes.Length * sizeof(ulong))
        + ((long)_heads.Length * Unsafe.SizeOf<Head>()) + ((long)_pool.Length * sizeof(uint))
        + ((long)(_tallies.Length + _touched.Length) * sizeof(int));

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
        if (postings > _hashes.Length)
        {
            GrowPostings(postings);
        }

        if ((long)_headCount + length > MaxHeads(_heads.Length))
        {
            GrowHeads((long)_headCount + length);
        }

        // Worst case: every hash moves to a block of the largest size.
        var pool = (long)_poolUsed + ((long)length << _maxLog);
        if (pool > _pool.Length)
        {
            var grown = new uint[LinearProbe.RingSize(pool, _pool.Length, MinPool)];
            _pool.AsSpan(0, _poolUsed).CopyTo(grown);
            _pool = grown;
        }
    }

    /// <summary>Adds a query of <paramref name="length"/> postings (added next, one call per hash); returns its number.</summary>
    public uint Append(ulong digest, TOwner owner, int length)
    {
        var query = _nextQuery++;
        _queries[query & (uint)(_queries.Length - 1)] = new IndexedQuery<TOwner>(digest, owner, _nextPosting, length);
        return query;
    }

    /// <summary>
    /// Asks for the cache lines <see cref="TallyAndAdd"/> of each of <paramref name="hashes"/> will
    /// read (after <see cref="Reserve"/>): the table entries first, then, the entries loaded, the
    /// newest end of each hash's block, so that the query's misses overlap.
    /// </summary>
    public void PrefetchFor(ReadOnlySpan<ulong> hashes)
    {
        var heads = _heads;
        foreach (var hash in hashes)
        {
            Prefetch.Line(in heads[Home(hash)]);
        }

        foreach (var hash in hashes)
        {
            var index = Find(hash);
            if (index >= 0)
            {
                Prefetch.Line(in _pool[Slot(heads[index], heads[index].Pos - 1)]);
            }
        }
    }

    /// <summary>Counts the hash's postings for their queries (oldest first), drops the oldest at the cap, then adds the query's.</summary>
    public void TallyAndAdd(ulong hash, uint query)
    {
        _hashes[_nextPosting++ & (uint)(_hashes.Length - 1)] = hash;
        Held++;
        var index = Find(hash);
        if (index < 0)
        {
            var block = Alloc(0);
            _pool[block] = query;
            _heads[~index] = new Head { Hash = hash, Block = (uint)block << 5, Count = 1, Pos = 1 };
            _headCount++;
            return;
        }

        ref var head = ref _heads[index];
        var log = (int)(head.Block & 31);
        var start = (int)(head.Block >> 5);
        var mask = (1 << log) - 1;
        int count = head.Count;
        int pos = head.Pos;
        var pool = _pool;
        var queryMask = (uint)(_queries.Length - 1);
        var tallies = _tallies;
        for (var k = count; k > 0; k--)
        {
            var slot = (int)(pool[start + ((pos - k) & mask)] & queryMask);
            ref var tally = ref tallies[slot];
            if (tally == 0)
            {
                _touched[_touchedCount++] = slot;
            }

            tally++;
        }

        if (count >= _maxPerHash)
        {
            // The oldest leaves the hash's newest maxPerHash.
            count--;
            Held--;
        }
        else if (count == mask + 1)
        {
            // Full: move to a block twice the size, oldest first from its start.
            var grown = Alloc(log + 1);
            for (var k = 0; k < count; k++)
            {
                pool[grown + k] = pool[start + ((pos - count + k) & mask)];
            }

            Free(start, log);
            start = grown;
            log++;
            mask = (mask << 1) | 1;
            pos = count;
            head.Block = ((uint)start << 5) | (uint)log;
        }

        pool[start + (pos & mask)] = query;
        head.Pos = (ushort)(pos + 1);
        head.Count = (ushort)(count + 1);
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

    /// <summary>Evicts the oldest query: its postings are the oldest of their hashes' blocks, unless dropped for the cap.</summary>
    public void EvictOldest()
    {
        var number = _oldestQuery++;
        ref var query = ref _queries[number & (uint)(_queries.Length - 1)];
        var hashMask = (uint)(_hashes.Length - 1);

        // The query's hashes are independent: their table entries, then the oldest ends of their
        // blocks, are asked for together before any is read (see Prefetch).
        for (var k = 0; k < query.Length; k++)
        {
            Prefetch.Line(in _heads[Home(_hashes[(query.FirstPosting + (uint)k) & hashMask])]);
        }

        for (var k = 0; k < query.Length; k++)
        {
            var index = Find(_hashes[(query.FirstPosting + (uint)k) & hashMask]);
            if (index >= 0)
            {
                ref readonly var head = ref _heads[index];
                Prefetch.Line(in _pool[Slot(head, head.Pos - head.Count)]);
            }
        }

        for (var k = 0; k < query.Length; k++)
        {
            var index = Find(_hashes[(query.FirstPosting + (uint)k) & hashMask]);
            if (index < 0)
            {
                continue;
            }

            ref var head = ref _heads[index];
            if (head.Count == 0 || _pool[Slot(head, head.Pos - head.Count)] != number)
            {
                // Dropped for the cap already (or a repeat of the hash already evicted).
                continue;
            }

            Held--;
            if (--head.Count == 0)
            {
                Free((int)(head.Block >> 5), (int)(head.Block & 31));
                RemoveHead(index);
            }
        }

        _oldestPosting = query.FirstPosting + (uint)query.Length;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TOwner>())
        {
            query.Owner = default!;
        }
    }

    /// <summary>Where in the pool a hash's block holds its <paramref name="position"/> (mod the block's size).</summary>
    private static int Slot(in Head head, int position) =>
        (int)(head.Block >> 5) + (position & ((1 << (int)(head.Block & 31)) - 1));

    private int Alloc(int log)
    {
        var block = _freeHead[log];
        if (block >= 0)
        {
            // A free block holds the next free one of its size (an intrusive list: no array to grow).
            _freeHead[log] = (int)_pool[block];
            return block;
        }

        block = _poolUsed;
        _poolUsed += 1 << log;
        return block;
    }

    private void Free(int block, int log)
    {
        _pool[block] = (uint)_freeHead[log];
        _freeHead[log] = block;
    }

    private int Home(ulong hash) => LinearProbe.Home(Fold(hash), _headShift);

    /// <summary>The 32 bits of a hash its home comes from: both halves folded in.</summary>
    private static uint Fold(ulong hash) => (uint)(hash ^ (hash >> 32));

    /// <summary>
    /// The most entries a table of <paramref name="entries"/> may hold: 3/4, or 7/8 while it is small
    /// (in cache, longer probe runs cost little; a shard is small only while it fills). At the default
    /// capacity a shard holds ~190,000 hashes (Fashion-MNIST queries): 2^18 entries, 4 MB, where half
    /// full took 8 MB. Probe runs are longer (one shard alone, warm: ~7% slower), but the server's
    /// four shards, the clients' indexes and histories miss in one cache: with all of them in turn
    /// (<c>ClientsDetectorBenchmarks.ObserveQuery32ClientsAndShards</c>) a query costs ~18% less (medians of
    /// six pairs, 16.0 against 19.5 µs).
    /// </summary>
    private static long MaxHeads(int entries) => entries <= SmallHeads ? entries / 8 * 7 : entries / 4 * 3;

    private int Find(ulong hash)
    {
        var mask = _heads.Length - 1;
        for (var index = Home(hash); ; index = (index + 1) & mask)
        {
            ref readonly var head = ref _heads[index];
            if (head.Count == 0)
            {
                return ~index;
            }

            if (head.Hash == hash)
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

        // Blocks hold query numbers, not slots: nothing else moves.
        _queries = queries;
        _tallies = new int[queries.Length];
        _touched = new int[queries.Length];
    }

    private void GrowPostings(long needed)
    {
        _hashes = LinearProbe.GrowRing(_hashes, _oldestPosting, _nextPosting, needed, MinPostings);
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

    /// <summary>A hash, its block (offset &lt;&lt; 5 | log2 of its size), its live postings and where the next goes (mod the size). Free when Count is 0.</summary>
    private struct Head : IProbeEntry
    {
        public ulong Hash;
        public uint Block;
        public ushort Count;
        public ushort Pos;

        public readonly bool IsFree => Count == 0;

        public readonly uint Key => Fold(Hash);
    }
}
