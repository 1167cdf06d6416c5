using System.Diagnostics;

namespace ShieldCluster.LoadGen;

/// <summary>Latency percentiles in milliseconds (nearest rank).</summary>
internal sealed record LatencyStats(long Count, double MeanMs, double P50Ms, double P90Ms, double P95Ms, double P99Ms, double P999Ms, double MaxMs)
{
    public static LatencyStats Empty { get; } = new(0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>From durations in <see cref="Stopwatch"/> ticks; sorts <paramref name="ticks"/>.</summary>
    public static LatencyStats FromTicks(long[] ticks)
    {
        if (ticks.Length == 0)
        {
            return Empty;
        }

        Array.Sort(ticks);
        double Ms(long t) => t * 1000.0 / Stopwatch.Frequency;
        double At(double p) => Ms(ticks[Math.Clamp((int)Math.Ceiling(p * ticks.Length) - 1, 0, ticks.Length - 1)]);
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
