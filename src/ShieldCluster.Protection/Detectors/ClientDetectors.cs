using System.Numerics;

namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// The stateful detectors of one client, fed its served items in order: a retry filter, PRADA over
/// the input features, Blacklight over the fingerprints of the client's own recent queries, the
/// line-search detector over the input features, and the count of inputs feature squeezing flagged.
/// State is derived from the query history, so it can be rebuilt by replaying it.
/// </summary>
public sealed class ClientDetectors
{
    private readonly DetectionOptions _options;
    private readonly RecentDigests _recent;
    private readonly PradaDetector _prada;
    private readonly BlacklightIndex<long> _blacklight;
    private readonly bool[] _matched;
    private readonly bool[] _crossMatched;
    private int _crossNext;
    private int _crossCount;
    private readonly HashSet<int> _labels = [];
    private readonly byte[]?[] _recentFeatures;
    private readonly int[] _recentLengths;
    private readonly long[] _recentTotals;
    private int[] _recentSums = [];
    private int _sumsStride;
    private int[] _sums = [];
    private int _recentNext;
    private readonly LineSearchDetector _lineSearch;
    private readonly bool[] _lineHits;
    private int _lineHitsNext;
    private int _lineHitsCount;
    private readonly bool[] _flagged;
    private int _flaggedNext;
    private int _flaggedCount;
    private int _checked;
    private int _matchedNext;
    private int _matchedCount;
    private long _sequence;

    /// <summary>Creates empty detectors.</summary>
    public ClientDetectors(DetectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BlacklightWindow, 1);
        _options = options;
        _recent = new RecentDigests(options.RetryMemory);
        _prada = new PradaDetector(options.Prada);
        _blacklight = new BlacklightIndex<long>(options.Blacklight.IndexCapacity);
        _matched = new bool[options.BlacklightWindow];
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CrossClientWindow, 1);
        _crossMatched = new bool[options.CrossClientWindow];
        _recentFeatures = new byte[Math.Max(1, options.NearDuplicateMemory)][];
        _recentLengths = new int[_recentFeatures.Length];
        Array.Fill(_recentLengths, -1);
        _recentTotals = new long[_recentFeatures.Length];
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SqueezeWindow, 1);
        _flagged = new bool[options.SqueezeWindow];
        _lineSearch = new LineSearchDetector(options.LineSearch);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.LineSearchWindow, 1);
        _lineHits = new bool[options.LineSearchWindow];
    }

    /// <summary>The current signals.</summary>
    public DetectorSignals Signals { get; private set; }

    /// <summary>Whether <paramref name="features"/> nearly equal a recent input's; remembers them either way.</summary>
    /// <remarks>
    /// Each input's sums over runs of <see cref="SumRun"/> values are kept beside it: by Cauchy-Schwarz,
    /// the squared distance is at least the sum over runs of (difference of run sums)² / run length,
    /// so most recent inputs are ruled out on a few dozen sums without touching their bytes. Before
    /// those, the whole input's sum: the squared distance is also at least (difference of the
    /// totals)² / length, and inputs of different brightness are ruled out on one number each (the
    /// 64 totals are one small array; the run sums of 64 thumbnails of 1,024 bytes are 16 KB, cold in
    /// cache when many clients take turns). The answer is the same: only inputs that are no near
    /// duplicate are skipped sooner. The
    /// sums of every recent input sit side by side in one array (a slot's at slot x stride) and their
    /// lengths in another, so ruling inputs out streams two small arrays and reads no input's array
    /// (inputs of another length are never compared).
    /// </remarks>
    private bool IsNearDuplicate(byte[] features)
    {
        var limit = (long)(_options.NearDuplicateRms * _options.NearDuplicateRms * features.Length);
        var runs = Features.FeatureDistance.RunCount(features.Length);
        if (_sums.Length < runs)
        {
            _sums = new int[runs];
        }

        var sums = _sums.AsSpan(0, runs);
        Features.FeatureDistance.RunSums(features, sums);
        long total = 0;
        foreach (var sum in sums)
        {
            total += sum;
        }

        ReserveRecent(_recentNext + 1, runs);
        var near = false;
        var totalLimit = limit * features.Length;
        for (var r = 0; r < _recentFeatures.Length; r++)
        {
            // The totals first (one number per input, all in one small array), then the run sums.
            var difference = _recentTotals[r] - total;
            if (_recentLengths[r] != features.Length || difference * difference >= totalLimit
                || Features.FeatureDistance.RunSumBound(_recentSums.AsSpan(r * _sumsStride, runs), sums) >= limit * SumRun)
            {
                continue;
            }

            if (IsWithin(_recentFeatures[r]!, features, limit))
            {
                near = true;
                break;
            }
        }

        sums.CopyTo(_recentSums.AsSpan(_recentNext * _sumsStride));
        _recentLengths[_recentNext] = features.Length;
        _recentTotals[_recentNext] = total;
        KeptInputs.Keep(ref _recentFeatures[_recentNext], features);
        _recentNext = (_recentNext + 1) % _recentFeatures.Length;
        return near;
    }

    /// <summary>
    /// Room for the run sums of <paramref name="slots"/> recent inputs of up to <paramref name="runs"/>
    /// runs: the array starts at a few slots and doubles up to the memory (a client of three queries
    /// holds a few hundred bytes), and its stride grows when a longer input comes (each slot's sums
    /// move with it).
    /// </summary>
    private void ReserveRecent(int slots, int runs)
    {
        var slotsHeld = _sumsStride == 0 ? 0 : _recentSums.Length / _sumsStride;
        if (slots <= slotsHeld && runs <= _sumsStride)
        {
            return;
        }

        var stride = Math.Max(Math.Max(runs, _sumsStride), 1);
        var newSlots = Math.Min(_recentFeatures.Length, Math.Max(Math.Max(slots, 4), slots > slotsHeld ? 2 * slotsHeld : slotsHeld));
        var grown = new int[newSlots * stride];
        for (var r = 0; r < slotsHeld; r++)
        {
            _recentSums.AsSpan(r * _sumsStride, _sumsStride).CopyTo(grown.AsSpan(r * stride));
        }

        _recentSums = grown;
        _sumsStride = stride;
    }

    private const int SumRun = Features.FeatureDistance.SumRun;

    /// <summary>Bytes compared between checks of the running distance against the limit.</summary>
    private const int DistanceChunk = 256;

    /// <summary>
    /// Whether the squared distance of <paramref name="a"/> and <paramref name="b"/> is below
    /// <paramref name="limit"/>: the same answer as comparing the whole distance, but it stops as soon
    /// as the running sum reaches the limit (distinct inputs are ruled out on their first few hundred bytes).
    /// </summary>
    private static bool IsWithin(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, long limit)
    {
        long sum = 0;
        for (var from = 0; from < a.Length; from += DistanceChunk)
        {
            var length = Math.Min(DistanceChunk, a.Length - from);
            sum += Features.FeatureDistance.SquaredL2(a.Slice(from, length), b.Slice(from, length));
            if (sum >= limit)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Observes what the cluster-wide index found for a request's items (which arrives after the
    /// request itself was observed): <paramref name="matched"/> of <paramref name="items"/> matched
    /// other clients' earlier queries.
    /// </summary>
    public DetectorSignals ObserveCrossClient(int matched, int items)
    {
        for (var i = 0; i < items; i++)
        {
            var isMatch = i < matched;
            _crossCount += (isMatch ? 1 : 0) - (_crossMatched[_crossNext] ? 1 : 0);
            _crossMatched[_crossNext] = isMatch;
            _crossNext = (_crossNext + 1) % _crossMatched.Length;
        }

        Signals = Signals with
        {
            CrossClientMatches = _crossCount,
            BlacklightAlarm = _matchedCount >= _options.BlacklightAlarmMatches || _crossCount >= _options.CrossClientAlarmMatches,
        };
        return Signals;
    }

    /// <summary>Observes one served item and returns the updated signals.</summary>
    public DetectorSignals Observe(QueryObservation query)
    {
        var signals = Signals with { Queries = Signals.Queries + 1 };
        if (_recent.SeenBefore(query.Digest))
        {
            Signals = signals with { Retries = signals.Retries + 1 };
            return Signals;
        }

        _labels.Add(query.Label);
        var nearDuplicate = IsNearDuplicate(query.Features);
        if (!nearDuplicate)
        {
            var prada = _prada.Observe(query.Label, query.Features);
            signals = signals with
            {
                PradaW = prada.W,
                PradaDistances = prada.Distances,
                PradaAlarm = prada.Alarm,
            };
        }

        signals = signals with { DistinctLabels = _labels.Count, NearDuplicates = signals.NearDuplicates + (nearDuplicate ? 1 : 0) };

        // Near-duplicates are tested (a binary search's late steps are near each other, still on the
        // line) but not kept: they would crowd out the ends of the lines.
        var hit = _lineSearch.Observe(query.Features, keep: !nearDuplicate);
        var isHit = hit is not null;
        _lineHitsCount += (isHit ? 1 : 0) - (_lineHits[_lineHitsNext] ? 1 : 0);
        _lineHits[_lineHitsNext] = isHit;
        _lineHitsNext = (_lineHitsNext + 1) % _lineHits.Length;
        signals = signals with
        {
            LineSearchHits = _lineHitsCount,
            LineSearchAlarm = _lineHitsCount >= _options.LineSearchAlarmHits,
            LineSearchTotal = signals.LineSearchTotal + (isHit ? 1 : 0),
            LineSearchLatest = hit ?? signals.LineSearchLatest,
        };

        if (query.Fingerprint is { } stored)
        {
            // A fingerprint kept more hashes under an earlier setting (history stored before Keep was
            // lowered, a front end of an earlier release): its largest come first, and those are the
            // fingerprint Keep asks for.
            var fingerprint = stored.AsSpan(0, Math.Min(stored.Length, _options.Blacklight.Keep));
            var match = _blacklight.BestMatchAndAdd(fingerprint, query.Digest, _sequence++);
            var shared = match?.Shared ?? 0;
            var isMatch = shared > _options.Blacklight.MatchThreshold;
            _matchedCount += (isMatch ? 1 : 0) - (_matched[_matchedNext] ? 1 : 0);
            _matched[_matchedNext] = isMatch;
            _matchedNext = (_matchedNext + 1) % _matched.Length;
            signals = signals with
            {
                BlacklightMatches = _matchedCount,
                BlacklightBestOverlap = shared,
                BlacklightAlarm = _matchedCount >= _options.BlacklightAlarmMatches || _crossCount >= _options.CrossClientAlarmMatches,
            };
        }

        if (query.SqueezeFlagged is { } flagged && !nearDuplicate)
        {
            _flaggedCount += (flagged ? 1 : 0) - (_flagged[_flaggedNext] ? 1 : 0);
            _flagged[_flaggedNext] = flagged;
            _flaggedNext = (_flaggedNext + 1) % _flagged.Length;
            _checked = Math.Min(_checked + 1, _flagged.Length);
            signals = signals with
            {
                SqueezeFlags = _flaggedCount,
                SqueezeChecked = _checked,
                SqueezeAlarm = _flaggedCount >= _options.SqueezeAlarmFlags,
            };
        }

        Signals = signals;
        return signals;
    }
}
