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

    public Dictionary<int, long> Statuses { get; } = [];

    public void Add(int status, long ticks)
    {
        Statuses[status] = Statuses.GetValueOrDefault(status) + 1;
        if (status == 200)
        {
            OkTicks.Add(ticks);
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
