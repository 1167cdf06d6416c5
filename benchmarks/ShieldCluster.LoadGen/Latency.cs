using System.Diagnostics;

namespace ShieldCluster.LoadGen;

/// <summary>Latency percentiles in milliseconds (nearest rank).</summary>
internal sealed record LatencyStats(long Count, double MeanMs, double P50Ms, double P90Ms, double P95Ms, double P99Ms, double P999Ms, double MaxMs)
{
    public static LatencyStats Empty { get; } = new(0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>The value at the nearest rank of <paramref name="p"/> (0-1) in <paramref name="sorted"/>, which is sorted and not empty.</summary>
    public static long AtRank(long[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>From durations in <see cref="Stopwatch"/> ticks; sorts <paramref name="ticks"/>.</summary>
    public static LatencyStats FromTicks(long[] ticks)
    {
        if (ticks.Length == 0)
        {
            return Empty;
        }

        Array.Sort(ticks);
        double Ms(long t) => t * 1000.0 / Stopwatch.Frequency;
        double At(double p) => Ms(AtRank(ticks, p));
        var sum = 0.0;
        foreach (var t in ticks)
        {
            sum += t;
        }

        return new LatencyStats(ticks.Length, Ms(1) * sum, At(0.50), At(0.90), At(0.95), At(0.99), At(0.999), Ms(ticks[^1]));
    }
}

/// <summary>One worker's record of a phase (no locking: each worker owns one; merged at the end).</summary>
internal sealed class WorkerLog
{
    public List<long> OkTicks { get; } = new(4096);

    public List<long> LagTicks { get; } = [];

    /// <summary>When each 200 came (<see cref="Stopwatch"/> timestamps), for the <see cref="Timeline"/>.</summary>
    public List<long> OkAt { get; } = new(4096);

    public Dictionary<int, long> Statuses { get; } = [];

    /// <summary>Records one answer that took <paramref name="ticks"/> and came at <paramref name="completedAt"/>.</summary>
    public void Add(int status, long ticks, long completedAt)
    {
        Statuses[status] = Statuses.GetValueOrDefault(status) + 1;
        if (status == 200)
        {
            OkTicks.Add(ticks);
            OkAt.Add(completedAt);
        }
    }

    public static (LatencyStats Ok, long OkCount, long Failed, Dictionary<string, long> Statuses) Merge(IEnumerable<WorkerLog> logs)
    {
        var list = logs.ToList();
        var ok = list.SelectMany(l => l.OkTicks).ToArray();
        var statuses = new Dictionary<int, long>();
        foreach (var (status, count) in list.SelectMany(l => l.Statuses))
        {
            statuses[status] = statuses.GetValueOrDefault(status) + count;
        }

        var failed = statuses.Where(s => s.Key != 200).Sum(s => s.Value);
        return (LatencyStats.FromTicks(ok), ok.Length, failed,
            statuses.OrderBy(s => s.Key).ToDictionary(s => s.Key switch
            {
                0 => "error",
                1 => "bad-output",
                _ => s.Key.ToString(System.Globalization.CultureInfo.InvariantCulture),
            }, s => s.Value));
    }
}

/// <summary>
/// A measured window's answers counted in bins of <see cref="BinMs"/>, to show what a window's mean
/// hides: stretches in which the server answered (almost) nothing.
/// </summary>
/// <param name="BinMs">The width of a bin in milliseconds.</param>
/// <param name="Items">Items answered in each bin, from the window's start.</param>
internal sealed record Timeline(double BinMs, long[] Items)
{
    /// <summary>A bin that answered under this share of the window's mean bin is stalled.</summary>
    public const double StallShare = 0.1;

    /// <summary>Seconds of the window in stalled bins (under <see cref="StallShare"/> of the mean bin).</summary>
    public double StalledSeconds
    {
        get
        {
            if (Items.Length == 0)
            {
                return 0;
            }

            var threshold = StallShare * Items.Sum() / Items.Length;
            return Math.Round(Items.Count(n => n < threshold) * BinMs / 1000, 2);
        }
    }

    /// <summary>Items per second in the slowest stretch of one second (whole bins; the whole window when it is shorter).</summary>
    public double SlowestSecondRate
    {
        get
        {
            if (Items.Length == 0)
            {
                return 0;
            }

            var width = Math.Clamp((int)Math.Round(1000 / BinMs), 1, Items.Length);
            long sum = 0, slowest = long.MaxValue;
            for (var i = 0; i < Items.Length; i++)
            {
                sum += Items[i];
                if (i >= width)
                {
                    sum -= Items[i - width];
                }

                if (i >= width - 1)
                {
                    slowest = Math.Min(slowest, sum);
                }
            }

            return Math.Round(slowest * 1000 / (width * BinMs), 1);
        }
    }

    /// <summary>
    /// Counts <paramref name="completedAt"/> (<see cref="Stopwatch"/> timestamps) from <paramref name="start"/>
    /// to <paramref name="end"/> in bins of <paramref name="binMs"/>, <paramref name="itemsEach"/> items each;
    /// a last part of the window shorter than half a bin is left out (it would look stalled), a longer one
    /// is a bin of its own (it holds fewer answers than a whole bin). Times outside the window are not counted.
    /// </summary>
    public static Timeline From(IEnumerable<long> completedAt, long start, long end, int itemsEach = 1, double binMs = 100)
    {
        ArgumentNullException.ThrowIfNull(completedAt);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(binMs);
        var binTicks = binMs * Stopwatch.Frequency / 1000;
        var bins = Math.Max(0, (int)Math.Round((end - start) / binTicks));
        var items = new long[bins];
        foreach (var t in completedAt)
        {
            var bin = (long)Math.Floor((t - start) / binTicks);
            if (t >= start && t < end && bin < bins)
            {
                items[bin] += itemsEach;
            }
        }

        return new Timeline(binMs, items);
    }
}

/// <summary>
/// Where in the window an open loop's tail came from: the answers at or above the phase's p99
/// latency, counted by the bin of <see cref="BinMs"/> in which each was scheduled. A tail made by
/// queueing on busy cores is spread over the window; one made by pauses or by periodic work (a
/// collector, a burst of writes every few seconds) sits in a few bins, and periodic work puts it at
/// the same place in every period (<see cref="Folded"/>).
/// </summary>
/// <param name="BinMs">The width of a bin in milliseconds.</param>
/// <param name="ThresholdMs">The latency at and above which an answer is in the tail (the phase's p99).</param>
/// <param name="Counts">Tail answers scheduled in each bin, from the window's start.</param>
internal sealed record TailTimeline(double BinMs, double ThresholdMs, long[] Counts)
{
    /// <summary>The periods (seconds) <see cref="Folded"/> is given for: the server's periodic writes and sweeps.</summary>
    public static readonly int[] Periods = [1, 2, 5];

    /// <summary>
    /// The fewest bins that hold half of the tail, as a share of the window's bins: about 0.5 for a tail
    /// spread evenly, near 0 for one that came in a few stretches.
    /// </summary>
    public double HalfShare
    {
        get
        {
            var total = Counts.Sum();
            if (total == 0)
            {
                return 0;
            }

            var sorted = Counts.OrderDescending().ToArray();
            long sum = 0;
            var bins = 0;
            while (sum * 2 < total)
            {
                sum += sorted[bins++];
            }

            return Math.Round((double)bins / Counts.Length, 3);
        }
    }

    /// <summary>
    /// For each of <see cref="Periods"/> (whole bins only): the tail folded onto one period, and the
    /// share of it in that period's busiest bin, times the bins in a period. 1 for a tail that does not
    /// follow the period; the number of bins in a period (10 per second at 100 ms) when all of it came at
    /// the same point of every period. Periods longer than half the window are left out.
    /// </summary>
    public Dictionary<string, double> Folded
    {
        get
        {
            var folded = new Dictionary<string, double>(StringComparer.Ordinal);
            var total = Counts.Sum();
            foreach (var period in Periods)
            {
                var width = (int)Math.Round(period * 1000 / BinMs);
                if (total == 0 || width < 1 || Counts.Length < 2 * width)
                {
                    continue;
                }

                var phases = new long[width];
                for (var i = 0; i < Counts.Length; i++)
                {
                    phases[i % width] += Counts[i];
                }

                folded[$"{period}s"] = Math.Round((double)phases.Max() / total * width, 2);
            }

            return folded;
        }
    }

    /// <summary>
    /// From each answer's latency and completion time (<see cref="Stopwatch"/> ticks and timestamps,
    /// paired by index): answers whose latency is at least <paramref name="thresholdTicks"/>, counted by
    /// the bin in which they were scheduled (completion less latency), from <paramref name="start"/> to
    /// <paramref name="end"/> in bins of <paramref name="binMs"/>; unlike <see cref="Timeline.From"/>, a
    /// last part of the window shorter than a bin is a bin of its own, so every answer scheduled in the
    /// window is counted.
    /// </summary>
    public static TailTimeline From(IReadOnlyList<long> latencies, IReadOnlyList<long> completedAt, long thresholdTicks, long start, long end, double binMs = 100)
    {
        ArgumentNullException.ThrowIfNull(latencies);
        ArgumentNullException.ThrowIfNull(completedAt);
        ArgumentOutOfRangeException.ThrowIfNotEqual(latencies.Count, completedAt.Count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(binMs);
        var binTicks = binMs * Stopwatch.Frequency / 1000;
        var counts = new long[Math.Max(0, (int)Math.Ceiling((end - start) / binTicks))];
        for (var i = 0; i < latencies.Count; i++)
        {
            if (latencies[i] < thresholdTicks)
            {
                continue;
            }

            var scheduled = completedAt[i] - latencies[i];
            var bin = (long)Math.Floor((scheduled - start) / binTicks);
            if (scheduled >= start && scheduled < end && bin < counts.Length)
            {
                counts[bin]++;
            }
        }

        return new TailTimeline(binMs, Math.Round(thresholdTicks * 1000.0 / Stopwatch.Frequency, 3), counts);
    }
}
