using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace ShieldCluster.Protection.Risk;

/// <summary>
/// The latest novel-today count (and class coverage) of each client of one plan, for one UTC day,
/// with the peers' median and 90th percentile. Memory is bounded: at most <c>capacity</c> clients
/// are kept (by a 64-bit hash of their id, about 30 bytes each), further clients of the day are
/// compared against them but not added; counts sit in a log-spaced histogram (exact below 128, then
/// buckets 2% apart: quantiles within 1%), so a quantile costs one pass over ~2,000 buckets however
/// many clients reported. Not thread-safe (one grain owns it).
/// </summary>
public sealed class PeerVolumes
{
    private const int Exact = 128;
    private const double Growth = 1.02;
    private static readonly double LogGrowth = Math.Log(Growth);
    private static readonly int Buckets = Exact + (int)Math.Ceiling(Math.Log(long.MaxValue / (double)Exact) / LogGrowth) + 1;

    private readonly int _capacity;
    private readonly Dictionary<ulong, Entry> _clients = [];
    private readonly int[] _volumes = new int[Buckets];
    private readonly int[] _coverage = new int[101];

    /// <summary>Creates an empty index keeping at most <paramref name="capacity"/> clients a day.</summary>
    public PeerVolumes(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    /// <summary>The UTC day counted, as <see cref="DateOnly.DayNumber"/> (0 before the first report).</summary>
    public int DayNumber { get; private set; }

    /// <summary>Clients kept for <see cref="DayNumber"/>.</summary>
    public int Clients => _clients.Count;

    /// <summary>Reports of the day not kept because <c>capacity</c> clients already were.</summary>
    public long Overflow { get; private set; }

    /// <summary>
    /// Records <paramref name="clientId"/>'s latest count for <paramref name="dayNumber"/> and returns
    /// its peers' statistics (every other client kept for that day). A report of an earlier day than
    /// the one counted is not kept and answered with the current day's statistics (the caller ignores
    /// them); a later day starts the count afresh.
    /// </summary>
    public PeerComparison Report(string clientId, int dayNumber, long novelToday, double coverage)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        if (dayNumber > DayNumber)
        {
            DayNumber = dayNumber;
            _clients.Clear();
            Array.Clear(_volumes);
            Array.Clear(_coverage);
            Overflow = 0;
        }

        var key = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(clientId.AsSpan()));
        var kept = _clients.TryGetValue(key, out var previous);
        if (dayNumber == DayNumber)
        {
            var entry = new Entry(VolumeBucket(novelToday), CoverageBucket(coverage));
            if (kept)
            {
                _volumes[previous.Volume]--;
                _coverage[previous.Coverage]--;
            }

            if (kept || _clients.Count < _capacity)
            {
                _clients[key] = entry;
                _volumes[entry.Volume]++;
                _coverage[entry.Coverage]++;
                kept = true;
                previous = entry;
            }
            else
            {
                Overflow++;
            }
        }

        // The peers are everyone kept but the caller.
        if (kept)
        {
            _volumes[previous.Volume]--;
            _coverage[previous.Coverage]--;
        }

        var peers = _clients.Count - (kept ? 1 : 0);
        var (median, p90) = peers == 0 ? (0.0, 0.0) : VolumeQuantiles(peers);
        var medianCoverage = peers == 0 ? 0.0 : CoverageMedian(peers);
        if (kept)
        {
            _volumes[previous.Volume]++;
            _coverage[previous.Coverage]++;
        }

        return new PeerComparison(DayNumber, peers, median, p90, medianCoverage);
    }

    private static int VolumeBucket(long value)
    {
        if (value < Exact)
        {
            return (int)Math.Max(0, value);
        }

        return Math.Min(Buckets - 1, Exact + (int)Math.Floor(Math.Log(value / (double)Exact) / LogGrowth));
    }

    /// <summary>A bucket's representative: its value below 128, its geometric middle above.</summary>
    private static double BucketValue(int bucket) =>
        bucket < Exact ? bucket : Exact * Math.Pow(Growth, bucket - Exact + 0.5);

    private static int CoverageBucket(double coverage) => (int)Math.Round(Math.Clamp(double.IsNaN(coverage) ? 0 : coverage, 0, 1) * 100);

    /// <summary>Nearest-rank median and 90th percentile over <paramref name="n"/> counted values.</summary>
    private (double Median, double P90) VolumeQuantiles(int n)
    {
        var medianRank = (int)Math.Ceiling(0.5 * n);
        var p90Rank = (int)Math.Ceiling(0.9 * n);
        double median = 0;
        var cumulative = 0;
        for (var b = 0; b < _volumes.Length; b++)
        {
            if (_volumes[b] == 0)
            {
                continue;
            }

            var before = cumulative;
            cumulative += _volumes[b];
            if (before < medianRank && cumulative >= medianRank)
            {
                median = BucketValue(b);
            }

            if (cumulative >= p90Rank)
            {
                return (median, BucketValue(b));
            }
        }

        return (median, median);
    }

    private double CoverageMedian(int n)
    {
        var rank = (int)Math.Ceiling(0.5 * n);
        var cumulative = 0;
        for (var b = 0; b < _coverage.Length; b++)
        {
            cumulative += _coverage[b];
            if (cumulative >= rank)
            {
                return b / 100.0;
            }
        }

        return 1;
    }

    private readonly record struct Entry(int Volume, int Coverage);
}

/// <summary>What a client's peers on its plan did today.</summary>
/// <param name="DayNumber">The UTC day the figures are for, as <see cref="DateOnly.DayNumber"/>.</param>
/// <param name="Peers">Other clients of the plan that reported that day.</param>
/// <param name="MedianNovel">Their median novel inputs that day.</param>
/// <param name="P90Novel">Their 90th percentile of novel inputs that day.</param>
/// <param name="MedianCoverage">Their median class coverage (see <see cref="Detectors.ClassCoverage"/>).</param>
public readonly record struct PeerComparison(int DayNumber, int Peers, double MedianNovel, double P90Novel, double MedianCoverage);
