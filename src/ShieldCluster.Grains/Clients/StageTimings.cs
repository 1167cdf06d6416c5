using System.Diagnostics;

namespace ShieldCluster.Grains.Clients;

/// <summary>
/// Diagnostics for load tests: where a request's time goes on the inference path (validation, the
/// admission's round trip to the client grain, the model behind its batching queue, the record) and
/// how long the client grain spends on each record, with the garbage collector's pauses and the thread
/// pool's queue beside them. Off unless the process runs with <c>SHIELD_STAGE_TIMINGS=1</c>; then one
/// line (<c>STAGES ...</c>, mean milliseconds and counts per stage) goes to standard error every 5 s.
/// </summary>
public static class StageTimings
{
    /// <summary>Whether timings are collected (<c>SHIELD_STAGE_TIMINGS=1</c>).</summary>
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("SHIELD_STAGE_TIMINGS") == "1";

    private static readonly string[] Names = ["validate", "admit", "infer", "record", "answer", "total", "grainRecord", "historyFlush"];
    private static readonly long[] Sums = new long[Names.Length];
    private static readonly long[] Counts = new long[Names.Length];
    private static readonly Lock Gate = new();
    private static Timer? _timer;
    private static TimeSpan _lastPause;
    private static int _lastGen0;
    private static int _lastGen1;
    private static int _lastGen2;

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
                _timer ??= new Timer(_ => Print(), null, 5000, 5000);
            }
        }
    }

    private static void Print()
    {
        var parts = new List<string>();
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
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        parts.Add(FormattableString.Invariant(
            $"gcPause={(pause - _lastPause).TotalMilliseconds:F0}ms gcs={gen0 - _lastGen0}/{gen1 - _lastGen1}/{gen2 - _lastGen2} threadPoolQueue={ThreadPool.PendingWorkItemCount} threads={ThreadPool.ThreadCount} heap={GC.GetTotalMemory(false) >> 20}MB"));
        (_lastPause, _lastGen0, _lastGen1, _lastGen2) = (pause, gen0, gen1, gen2);
        var ephemeral = GC.GetGCMemoryInfo(GCKind.Ephemeral);
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        parts.Add(FormattableString.Invariant(
            $"lastEphemeral=gen{ephemeral.Generation}:{ephemeral.PauseDurations[0].TotalMilliseconds:F1}ms,promoted={ephemeral.PromotedBytes >> 10}KB lastBackground={background.PauseDurations[0].TotalMilliseconds:F1}+{background.PauseDurations[1].TotalMilliseconds:F1}ms"));
        Console.Error.WriteLine("STAGES " + string.Join(' ', parts));
    }
}
