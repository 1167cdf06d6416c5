using System.Diagnostics;

namespace ShieldCluster.Grains.Clients;

/// <summary>
/// Diagnostics for load tests: where a request's time goes on the inference path (validation, the
/// admission's round trip to the client grain, the model behind its batching queue, the record) and
/// how long the client grain spends on each record, with the garbage collector's pauses and the thread
/// pool's queue beside them. Off unless the process runs with <c>SHIELD_STAGE_TIMINGS=1</c>; then one
/// line (<c>STAGES at=HH:mm:ss.fff ...</c>: the UTC time it was written, then mean milliseconds and
/// counts per stage) goes to standard error every 5 s, or every <c>SHIELD_STAGE_TIMINGS_PERIOD_MS</c>
/// milliseconds (100 to 60,000), so that short stalls can be matched against other per-second
/// figures (the GPU's utilisation, the load generator's timeline).
/// </summary>
/// <remarks>
/// Two probes look for stalls of the whole process: a thread of its own that sleeps 10 ms at a time
/// and measures how late it wakes (<c>wakeLateMax</c>: the process was paused, by the collector or
/// anything else that stops every thread, or had no core), and a thread-pool item queued every 10 ms
/// that measures how long it waited to run (<c>poolWaitMax</c>, and <c>poolWaits50</c>: how many waited
/// over 50 ms; the pool was starved). With <c>SHIELD_STAGE_TIMINGS_ALLOCATIONS=1</c> as well, each line
/// ends with the types allocated most in its period (<see cref="AllocationSampler"/>).
/// </remarks>
public static class StageTimings
{
    /// <summary>Whether timings are collected (<c>SHIELD_STAGE_TIMINGS=1</c>).</summary>
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("SHIELD_STAGE_TIMINGS") == "1";

    /// <summary>Milliseconds between two lines: <c>SHIELD_STAGE_TIMINGS_PERIOD_MS</c> when it is a whole number from 100 to 60,000, else 5,000.</summary>
    internal static readonly int PeriodMs = PeriodFrom(Environment.GetEnvironmentVariable("SHIELD_STAGE_TIMINGS_PERIOD_MS"));

    private static readonly string[] Names = ["validate", "admit", "infer", "record", "answer", "total", "grainRecord", "historyFlush"];
    private static readonly long[] Sums = new long[Names.Length];
    private static readonly long[] Counts = new long[Names.Length];
    private static readonly Lock Gate = new();
    private static Timer? _timer;
    private static AllocationSampler? _allocations;
    private static TimeSpan _lastPause;
    private static long _lastAllocated;
    private static int _lastGen0;
    private static int _lastGen1;
    private static int _lastGen2;
    private static long _wakeLateMax;
    private static long _poolWaitMax;
    private static long _poolWaits50;

    /// <summary>The stages timed.</summary>
    public enum Stage
    {
        /// <summary>Input selection and validation.</summary>
        Validate,

        /// <summary>The admission's round trip to the client grain.</summary>
        Admit,

        /// <summary>The inference grain's call (batching queue and model run), with the feature extraction overlapping it.</summary>
        Infer,

        /// <summary>Building the record and sending it (client grain and cross-client queue).</summary>
        Record,

        /// <summary>Hardening and assembling the answer.</summary>
        Answer,

        /// <summary>The whole pipeline.</summary>
        Total,

        /// <summary>The client grain's turn on one record (detectors and assessment).</summary>
        GrainRecord,

        /// <summary>A client grain's history write, up to its first wait for the store (in the embedded default's store, all of it).</summary>
        HistoryFlush,
    }

    /// <summary>Adds one observation of <paramref name="stage"/> (Stopwatch ticks).</summary>
    public static void Add(Stage stage, long ticks, int count = 1)
    {
        Interlocked.Add(ref Sums[(int)stage], ticks);
        Interlocked.Add(ref Counts[(int)stage], count);
        if (_timer is null)
        {
            lock (Gate)
            {
                if (_timer is null)
                {
                    new Thread(Probe) { IsBackground = true, Name = "stage-timings probe" }.Start();
                    _allocations = AllocationSampler.Requested ? new AllocationSampler() : null;
                    _timer = new Timer(_ => Print(), null, PeriodMs, PeriodMs);
                }
            }
        }
    }

    /// <summary>The period a <c>SHIELD_STAGE_TIMINGS_PERIOD_MS</c> value asks for; 5,000 when it is absent or out of range.</summary>
    internal static int PeriodFrom(string? value) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms is >= 100 and <= 60_000 ? ms : 5_000;

    /// <summary>The probes' loop: sleeps 10 ms, notes how late it woke, queues the next pool probe.</summary>
    private static void Probe()
    {
        var tenMs = Stopwatch.Frequency / 100;
        while (true)
        {
            var before = Stopwatch.GetTimestamp();
            Thread.Sleep(10);
            var now = Stopwatch.GetTimestamp();
            Max(ref _wakeLateMax, now - before - tenMs);
            ThreadPool.UnsafeQueueUserWorkItem(static queued => PoolProbe(queued), now, preferLocal: false);
        }
    }

    private static void PoolProbe(long queued)
    {
        var waited = Stopwatch.GetTimestamp() - queued;
        Max(ref _poolWaitMax, waited);
        if (waited > Stopwatch.Frequency / 20)
        {
            Interlocked.Increment(ref _poolWaits50);
        }
    }

    private static void Max(ref long location, long value)
    {
        var current = Volatile.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static void Print()
    {
        var parts = new List<string> { FormattableString.Invariant($"at={DateTime.UtcNow:HH:mm:ss.fff}") };
        for (var i = 0; i < Names.Length; i++)
        {
            var count = Interlocked.Exchange(ref Counts[i], 0);
            var sum = Interlocked.Exchange(ref Sums[i], 0);
            if (count > 0)
            {
                parts.Add(FormattableString.Invariant($"{Names[i]}={sum * 1000.0 / Stopwatch.Frequency / count:F2}ms/{count}"));
            }
        }

        var pause = GC.GetTotalPauseDuration();
        var allocated = GC.GetTotalAllocatedBytes(precise: false);
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        parts.Add(FormattableString.Invariant(
            $"allocated={(allocated - _lastAllocated) >> 10}KB gcPause={(pause - _lastPause).TotalMilliseconds:F0}ms gcs={gen0 - _lastGen0}/{gen1 - _lastGen1}/{gen2 - _lastGen2} threadPoolQueue={ThreadPool.PendingWorkItemCount} threads={ThreadPool.ThreadCount} heap={GC.GetTotalMemory(false) >> 20}MB"));
        (_lastPause, _lastAllocated, _lastGen0, _lastGen1, _lastGen2) = (pause, allocated, gen0, gen1, gen2);
        static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        parts.Add(FormattableString.Invariant(
            $"wakeLateMax={Ms(Interlocked.Exchange(ref _wakeLateMax, 0)):F0}ms poolWaitMax={Ms(Interlocked.Exchange(ref _poolWaitMax, 0)):F0}ms poolWaits50={Interlocked.Exchange(ref _poolWaits50, 0)}"));
        var ephemeral = GC.GetGCMemoryInfo(GCKind.Ephemeral);
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        parts.Add(FormattableString.Invariant(
            $"lastEphemeral=gen{ephemeral.Generation}:{ephemeral.PauseDurations[0].TotalMilliseconds:F1}ms,promoted={ephemeral.PromotedBytes >> 10}KB lastBackground={background.PauseDurations[0].TotalMilliseconds:F1}+{background.PauseDurations[1].TotalMilliseconds:F1}ms"));
        if (_allocations is { } sampler)
        {
            parts.Add("allocatedAs: " + sampler.TakeTop(12));
        }

        Console.Error.WriteLine("STAGES " + string.Join(' ', parts));
    }
}
