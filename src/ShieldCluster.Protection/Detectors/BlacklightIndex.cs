namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// An index of recent fingerprints (hash -> the queries holding it) that finds, for a new query, the
/// earlier query sharing the most hashes. Bounded: the oldest fingerprint is evicted past
/// <see cref="BlacklightOptions.IndexCapacity"/>. Queries with the same digest as the new one (an
/// identical resend, or the same popular image from another client) are not matches.
/// </summary>
/// <remarks>
/// Every client has one, so it is stored flat (see <see cref="PostingChains{TOwner}"/>): rings of
/// queries and postings and a table from hash to its newest posting, which start small and double as
/// the client sends more (a client of three queries holds a few kilobytes, a full index of 1,000
/// queries of 50 hashes (the default until 25) about 2.1 MB, against 3.3 MB as dictionaries, queues and arrays). Once grown, looking up and adding allocate nothing, so a busy
/// client's index leaves no long-lived garbage for the collector to promote.
/// </remarks>
/// <typeparam name="TOwner">What an entry remembers about its query's sender (a client id, or nothing).</typeparam>
public sealed class BlacklightIndex<TOwner>
{
    private readonly PostingChains<TOwner> _chains;
    private readonly int _capacity;

    /// <summary>Creates an index holding at most <paramref name="capacity"/> fingerprints.</summary>
    public BlacklightIndex(int capacity)
        : this(capacity, 0)
    {
    }

    /// <summary>As the public constructor, with the first sequence number given (tests start near its wrap-around).</summary>
    internal BlacklightIndex(int capacity, uint firstSequence)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _chains = new PostingChains<TOwner>(PostingChains<TOwner>.Uncapped, firstSequence);
    }

    /// <summary>Fingerprints held.</summary>
    public int Count => _chains.Queries;

    /// <summary>Bytes of the arrays the index holds now (they grow with its contents, up to its capacity).</summary>
    internal long ReservedBytes => _chains.ReservedBytes;

    /// <summary>The earlier query sharing the most hashes with <paramref name="fingerprint"/> (digest differing), if any shares one.</summary>
    /// <remarks>
    /// A hash repeated in the fingerprint or in an earlier one counts once per pair of occurrences.
    /// Of queries sharing equally many, the one met first wins: the one holding the earliest of
    /// <paramref name="fingerprint"/>'s hashes, then the oldest.
    /// </remarks>
    public BlacklightMatch<TOwner>? BestMatch(ReadOnlySpan<ulong> fingerprint, ulong digest)
    {
        if (_chains.Queries == 0)
        {
            return null;
        }

        _chains.Tally(fingerprint);
        return Best(digest);
    }

    /// <summary>
    /// <see cref="BestMatch"/> then <see cref="Add"/>, the same answer and the same index after, with
    /// one probe of the table per hash instead of two: the new query is linked as it is counted, and
    /// the oldest is evicted after the answer is read (the rings hold one query more meanwhile).
    /// </summary>
    public BlacklightMatch<TOwner>? BestMatchAndAdd(ReadOnlySpan<ulong> fingerprint, ulong digest, TOwner owner)
    {
        _chains.Reserve(fingerprint.Length);
        var query = _chains.Append(digest, owner, fingerprint.Length);
        _chains.TallyAndLink(fingerprint, query);
        var match = Best(digest);
        if (_chains.Queries > _capacity)
        {
            _chains.EvictOldest();
        }

        return match;
    }

    /// <summary>Of the queries the current lookup counted, the one sharing the most (digest differing); clears the counts.</summary>
    private BlacklightMatch<TOwner>? Best(ulong digest)
    {
        var bestShared = 0;
        var bestSlot = -1;
        foreach (var slot in _chains.Touched)
        {
            var shared = _chains.TallyOf(slot);
            if (shared > bestShared && _chains.QueryAt(slot).Digest != digest)
            {
                bestShared = shared;
                bestSlot = slot;
            }
        }

        _chains.ClearTallies();
        if (bestSlot < 0)
        {
            return null;
        }

        ref readonly var best = ref _chains.QueryAt(bestSlot);
        return new BlacklightMatch<TOwner>(bestShared, best.Owner, best.Digest);
    }

    /// <summary>Adds a fingerprint, evicting the oldest past capacity.</summary>
    public void Add(ReadOnlySpan<ulong> fingerprint, ulong digest, TOwner owner)
    {
        // Evicting first (the new query is never the one evicted) keeps the rings at the capacity.
        if (_chains.Queries == _capacity)
        {
            _chains.EvictOldest();
        }

        _chains.Reserve(fingerprint.Length);
        var query = _chains.Append(digest, owner, fingerprint.Length);
        foreach (var hash in fingerprint)
        {
            _chains.Link(hash, query);
        }
    }
}

/// <summary>The best match of a query in an index.</summary>
/// <param name="Shared">Hashes shared with the earlier query.</param>
/// <param name="Owner">Who sent the earlier query.</param>
/// <param name="Digest">The earlier query's digest.</param>
public readonly record struct BlacklightMatch<TOwner>(int Shared, TOwner Owner, ulong Digest);
