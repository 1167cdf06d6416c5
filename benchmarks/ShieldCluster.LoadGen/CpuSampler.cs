using System.Diagnostics;
using System.Globalization;

namespace ShieldCluster.LoadGen;

/// <summary>CPU time used during a phase, in cores (CPU seconds per second), from /proc.</summary>
internal sealed record CpuUsage(
    double? ServerCores,
    double GeneratorCores,
    double MachineBusyCores,
    double OtherCores,
    double? ServerCpuMsPerRequest,
    double GeneratorCpuMsPerRequest,
    double? GeneratorGcPauseMs = null);

/// <summary>
/// Work the server still did after a phase's load stopped (one-way detector calls and state writes
/// queued behind the answers), until it went idle: CPU that the measured window did not pay for.
/// </summary>
internal sealed record DrainStats(double Seconds, double ServerCpuSeconds);

/// <summary>
/// A snapshot of the CPU time of the server process, this process and the whole machine, and of this
/// process's garbage-collection pauses (a generator that pauses stops sending, which looks like a server stall).
/// </summary>
internal readonly record struct CpuSnapshot(long Timestamp, double ServerSeconds, double GeneratorSeconds, double MachineBusySeconds, TimeSpan GeneratorGcPause)
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public static CpuSnapshot Take(int? serverPid) => new(
        Stopwatch.GetTimestamp(),
        serverPid is { } pid ? ProcessSeconds($"/proc/{pid}/stat") : double.NaN,
        ProcessSeconds("/proc/self/stat"),
        ReadMachineBusySeconds(),
        GC.GetTotalPauseDuration());

    public static CpuUsage Between(CpuSnapshot start, CpuSnapshot end, long requests)
    {
        var wall = Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds;
        var server = double.IsNaN(start.ServerSeconds) || double.IsNaN(end.ServerSeconds) ? double.NaN : (end.ServerSeconds - start.ServerSeconds) / wall;
        var generator = (end.GeneratorSeconds - start.GeneratorSeconds) / wall;
        var busy = (end.MachineBusySeconds - start.MachineBusySeconds) / wall;
        var perRequest = requests > 0 ? 1000.0 * wall / requests : double.NaN;
        var known = double.IsNaN(server) ? 0 : server;
        return new CpuUsage(
            double.IsNaN(server) ? null : Math.Round(server, 3),
            Math.Round(generator, 3),
            Math.Round(busy, 3),
            Math.Round(Math.Max(0, busy - known - generator), 3),
            double.IsNaN(server) || requests == 0 ? null : Math.Round(server * perRequest, 4),
            requests == 0 ? 0 : Math.Round(generator * perRequest, 4),
            Math.Round((end.GeneratorGcPause - start.GeneratorGcPause).TotalMilliseconds, 1));
    }

    /// <summary>
    /// Waits until the server uses under 0.1 cores over two consecutive 250 ms samples (at most
    /// <paramref name="limit"/>); how long that took and the server CPU it used meanwhile.
    /// </summary>
    public static async Task<DrainStats?> WaitForIdleAsync(int? serverPid, TimeSpan limit, CancellationToken cancellation)
    {
        if (serverPid is not { } pid)
        {
            await Task.Delay(TimeSpan.FromSeconds(3), cancellation);
            return null;
        }

        var start = Take(pid);
        var last = start;
        var quiet = 0;
        while (Stopwatch.GetElapsedTime(start.Timestamp) < limit && quiet < 2)
        {
            await Task.Delay(250, cancellation);
            var now = Take(pid);
            var cores = (now.ServerSeconds - last.ServerSeconds) / Stopwatch.GetElapsedTime(last.Timestamp, now.Timestamp).TotalSeconds;
            quiet = cores < 0.1 ? quiet + 1 : 0;
            last = now;
        }

        // The two quiet samples at the end are not part of the drain.
        var seconds = Math.Max(0, Stopwatch.GetElapsedTime(start.Timestamp, last.Timestamp).TotalSeconds - 0.5);
        return new DrainStats(Math.Round(seconds, 2), Math.Round(last.ServerSeconds - start.ServerSeconds, 2));
    }

    private static double ProcessSeconds(string statPath)
    {
        try
        {
            var stat = File.ReadAllText(statPath);
            // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    private static double ReadMachineBusySeconds()
    {
        try
        {
            using var reader = new StreamReader("/proc/stat");
            var line = reader.ReadLine()!; // cpu  user nice system idle iowait irq softirq steal guest guest_nice
            var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var idle = values[3] + values[4];
            return (values.Sum() - idle) / TicksPerSecond;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }
}
