using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ShieldCluster.LoadGen;

/// <summary>What a phase measured.</summary>
internal sealed record PhaseResult
{
    public required string Name { get; init; }

    public required string Target { get; init; }

    /// <summary><c>closed</c> (a fixed number of clients, each sending when its last answer came) or <c>open</c> (a fixed arrival rate).</summary>
    public required string Mode { get; init; }

    public int Concurrency { get; init; }

    /// <summary>Items (rows) per request or Run call: 1 for the servers, --bare-batch for bare ONNX Runtime.</summary>
    public int Batch { get; init; } = 1;

    /// <summary>The servers' phases: json, binary or grpc.</summary>
    public string? Wire { get; init; }

    /// <summary>Bare ONNX Runtime: cpu or cuda.</summary>
    public string? Device { get; init; }

    public int Keys { get; init; }

    public double? OfferedRate { get; init; }

    public string? Schedule { get; init; }

    public double DurationSeconds { get; init; }

    public long Ok { get; init; }

    public long Failed { get; init; }

    /// <summary>Open loop: arrivals not sent because too many requests were already in flight.</summary>
    public long Dropped { get; init; }

    public Dictionary<string, long> Statuses { get; init; } = [];

    /// <summary>Answered items per second: 200s (one item each) for the servers, rows of successful Run calls for bare ONNX Runtime.</summary>
    public double Throughput { get; init; }

    /// <summary>Of answered requests. Open loop: from each request's scheduled send time.</summary>
    public required LatencyStats Latency { get; init; }

    /// <summary>Answers over the measured window in bins (stalls). Open loop: answers to the measured arrivals that came inside the window.</summary>
    public Timeline? Timeline { get; init; }

    /// <summary>Open loop: how late the generator sent each request after its scheduled time.</summary>
    public LatencyStats? SendLag { get; init; }

    /// <summary>Open loop: where in the window the answers at or above the p99 were scheduled.</summary>
    public TailTimeline? Tail { get; init; }

    /// <summary>Open loop: when the measured window began (UTC, to the millisecond), to match its bins with the server's timed lines (STAGES).</summary>
    public DateTimeOffset? WindowStart { get; init; }

    public CpuUsage? Cpu { get; init; }

    public ServerSideStats? Server { get; init; }

    /// <summary>Server work after the load stopped, until it was idle.</summary>
    public DrainStats? Drain { get; init; }

    /// <summary>Server CPU per answered request including the work finished after the window (ms).</summary>
    public double? ServerCpuMsPerRequestWithDrain =>
        Cpu?.ServerCores is { } cores && Ok + Failed > 0
            ? Math.Round((cores * DurationSeconds + (Drain?.ServerCpuSeconds ?? 0)) * 1000 / (Ok + Failed), 3)
            : null;
}

/// <summary>
/// The slots (reusable requests) of a run, shared by its phases (one phase runs at a time): a
/// closed loop takes the first <c>n</c>, one per worker; the open loop rents and returns them.
/// </summary>
internal sealed class SlotPool(RequestFactory factory)
{
    private readonly List<RequestSlot> _all = [];
    private readonly Lock _gate = new();

    public RequestFactory Factory => factory;

    /// <summary>The first <paramref name="count"/> slots, created as needed.</summary>
    public RequestSlot[] Take(int count)
    {
        lock (_gate)
        {
            while (_all.Count < count)
            {
                _all.Add(factory.CreateSlot(_all.Count));
            }

            return [.. _all.Take(count)];
        }
    }

    /// <summary>One more slot, beyond those created so far.</summary>
    public RequestSlot Create()
    {
        lock (_gate)
        {
            var slot = factory.CreateSlot(_all.Count);
            _all.Add(slot);
            return slot;
        }
    }
}

/// <summary>The closed-loop and open-loop HTTP phases.</summary>
internal static class HttpLoad
{
    /// <summary>What a phase needs from its server.</summary>
    internal sealed record Context(ServerTarget Server, string Model, SlotPool Slots, ImageCursor Cursor, string[] Keys, int WorkersPerChannel, TextWriter Log,
        HttpClientKind HttpClient = HttpClientKind.Raw)
    {
        public RequestFactory Factory => Slots.Factory;

        public string Wire => Factory.Wire.ToString().ToLowerInvariant();
    }

    /// <summary>
    /// <paramref name="concurrency"/> workers, each with its own connection, each sending its next
    /// request as soon as its last answer came. With <paramref name="oneKey"/> every worker uses the first key.
    /// </summary>
    public static async Task<PhaseResult> ClosedLoopAsync(Context context, string name, int concurrency, bool oneKey,
        TimeSpan warmup, TimeSpan duration, CancellationToken cancellation)
    {
        // Many keys: every key but the last. One key: the last, kept fresh for this phase, so that
        // both phases start from clients the server has not seen (a new client's detectors cost more).
        var many = context.Keys.Length - 1;
        var phaseKeys = oneKey ? context.Keys[many..] : context.Keys[..many];
        using var client = InferTransport.Create(context.Factory, context.Server, context.Model, phaseKeys, concurrency, context.WorkersPerChannel, context.HttpClient);
        var slots = context.Slots.Take(concurrency);
        var factory = context.Factory;
        var cursorBase = oneKey ? many : 0;
        var keys = phaseKeys.Length;
        var logs = Enumerable.Range(0, concurrency).Select(_ => new WorkerLog()).ToArray();
        long measureStart = long.MaxValue, measureEnd = long.MaxValue;

        async Task Worker(int w)
        {
            await Task.Yield();
            var log = logs[w];
            for (long j = 0; ; j++)
            {
                var key = (int)((w + j * concurrency) % keys);
                factory.Prepare(slots[w], context.Cursor.Next(cursorBase + key));
                var t0 = Stopwatch.GetTimestamp();
                var status = await client.SendAsync(slots[w], key, cancellation);
                var t1 = Stopwatch.GetTimestamp();
                var end = Volatile.Read(ref measureEnd);
                if (t1 > end || cancellation.IsCancellationRequested)
                {
                    return;
                }

                if (t1 >= Volatile.Read(ref measureStart))
                {
                    log.Add(status, t1 - t0, t1);
                }
            }
        }

        context.Log.WriteLine($"[{name}] closed loop, {concurrency} {(factory.Wire == global::ShieldCluster.LoadGen.Wire.Grpc ? $"workers over {(concurrency + context.WorkersPerChannel - 1) / context.WorkersPerChannel} gRPC channel(s)" : "connections")}, {context.Wire}, {keys} key(s): {warmup.TotalSeconds:0.#} s warm-up, {duration.TotalSeconds:0.#} s measured");
        var workers = Enumerable.Range(0, concurrency).Select(Worker).ToArray();
        await Task.Delay(warmup, cancellation);
        var metricsStart = await context.Server.ScrapeAsync(MetricsHttp, cancellation);
        var cpuStart = CpuSnapshot.Take(context.Server.Pid);
        Volatile.Write(ref measureStart, cpuStart.Timestamp);
        await Task.Delay(duration, cancellation);
        var cpuEnd = CpuSnapshot.Take(context.Server.Pid);
        Volatile.Write(ref measureEnd, cpuEnd.Timestamp);
        var metricsEnd = await context.Server.ScrapeAsync(MetricsHttp, cancellation);
        await Task.WhenAll(workers);
        var drain = await CpuSnapshot.WaitForIdleAsync(context.Server.Pid, TimeSpan.FromSeconds(120), cancellation);

        var seconds = Stopwatch.GetElapsedTime(cpuStart.Timestamp, cpuEnd.Timestamp).TotalSeconds;
        var (latency, ok, failed, statuses) = WorkerLog.Merge(logs);
        return new PhaseResult
        {
            Name = name,
            Target = context.Server.Name,
            Mode = "closed",
            Concurrency = concurrency,
            Wire = context.Wire,
            Keys = keys,
            DurationSeconds = Math.Round(seconds, 3),
            Ok = ok,
            Failed = failed,
            Statuses = statuses,
            Throughput = Math.Round(ok / seconds, 1),
            Latency = latency,
            Timeline = Timeline.From(logs.SelectMany(l => l.OkAt), cpuStart.Timestamp, cpuEnd.Timestamp),
            Cpu = CpuSnapshot.Between(cpuStart, cpuEnd, ok + failed),
            Server = MetricsSnapshot.Between(metricsStart, metricsEnd),
            Drain = drain,
        };
    }

    /// <summary>
    /// Requests sent at a fixed offered <paramref name="rate"/> whatever the answers do (open loop),
    /// round-robin over the keys. Latency is measured from each request's SCHEDULED send time, not
    /// from when it was actually sent, so a stall of the server or of the generator counts for every
    /// request it delayed (no coordinated omission).
    /// </summary>
    public static async Task<PhaseResult> OpenLoopAsync(Context context, string name, double rate, Schedule schedule, int seed,
        int maxInFlight, TimeSpan warmup, TimeSpan duration, CancellationToken cancellation)
    {
        var phaseKeys = context.Keys[..^1];
        using var client = InferTransport.Create(context.Factory, context.Server, context.Model, phaseKeys, Math.Max(64, maxInFlight), context.WorkersPerChannel, context.HttpClient);
        var factory = context.Factory;
        // Slots for the requests in flight: rented for a request, returned when its answer came.
        var free = new System.Collections.Concurrent.ConcurrentBag<RequestSlot>(context.Slots.Take(Math.Min(maxInFlight, 128)));
        var log = new WorkerLog();
        var gate = new Lock();
        long inFlight = 0, dropped = 0;
        var frequency = (double)Stopwatch.Frequency;
        var random = new Random(seed);
        var total = warmup + duration;

        context.Log.WriteLine($"[{name}] open loop, {rate:0.#} requests/s ({schedule.ToString().ToLowerInvariant()}), {context.Wire}, {phaseKeys.Length} key(s): {warmup.TotalSeconds:0.#} s warm-up, {duration.TotalSeconds:0.#} s measured");

        // Arrival times, relative to the start, in seconds: drawn up front so both servers get the same ones.
        var arrivals = new List<double>();
        for (var t = 0.0; ;)
        {
            t += schedule == Schedule.Poisson ? -Math.Log(1 - random.NextDouble()) / rate : 1 / rate;
            if (t >= total.TotalSeconds)
            {
                break;
            }

            arrivals.Add(t);
        }

        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
        var measureFrom = start + (long)(warmup.TotalSeconds * frequency);
        var measureTo = start + (long)(total.TotalSeconds * frequency);

        async Task SendAsync(int k, long scheduled, bool measured)
        {
            var key = k % phaseKeys.Length;
            var slot = free.TryTake(out var s) ? s : context.Slots.Create();
            factory.Prepare(slot, context.Cursor.Next(key));
            var status = await client.SendAsync(slot, key, cancellation);
            var answered = Stopwatch.GetTimestamp();
            var latency = answered - scheduled;
            free.Add(slot);
            if (measured)
            {
                lock (gate)
                {
                    log.Add(status, latency, answered);
                }
            }

            Interlocked.Decrement(ref inFlight);
        }

        // The dispatcher: a dedicated thread that sleeps (nanosleep, not a busy wait: the cores are the
        // server's) until the next arrival is due, then starts every due request without waiting for it.
        void Dispatch()
        {
            for (var k = 0; k < arrivals.Count && !cancellation.IsCancellationRequested; k++)
            {
                var scheduled = start + (long)(arrivals[k] * frequency);
                var now = Stopwatch.GetTimestamp();
                if (scheduled > now)
                {
                    Sleep(scheduled - now);
                    now = Stopwatch.GetTimestamp();
                }

                var measured = scheduled >= measureFrom && scheduled < measureTo;
                if (Interlocked.Read(ref inFlight) >= maxInFlight)
                {
                    if (measured)
                    {
                        Interlocked.Increment(ref dropped);
                    }

                    continue;
                }

                if (measured)
                {
                    lock (gate)
                    {
                        log.LagTicks.Add(now - scheduled);
                    }
                }

                Interlocked.Increment(ref inFlight);
                _ = SendAsync(k, scheduled, measured);
            }
        }

        var dispatcher = new Thread(Dispatch) { IsBackground = true, Name = "open-loop dispatcher" };
        dispatcher.Start();
        // The window's start on the wall clock: now, plus what is left until it.
        var windowStart = DateTimeOffset.UtcNow + Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), measureFrom);
        await DelayUntilAsync(measureFrom, cancellation);
        var metricsStart = await context.Server.ScrapeAsync(MetricsHttp, cancellation);
        var cpuStart = CpuSnapshot.Take(context.Server.Pid);
        await DelayUntilAsync(measureTo, cancellation);
        var cpuEnd = CpuSnapshot.Take(context.Server.Pid);
        var metricsEnd = await context.Server.ScrapeAsync(MetricsHttp, cancellation);
        dispatcher.Join();

        var drain = Stopwatch.GetTimestamp();
        while (Interlocked.Read(ref inFlight) > 0 && Stopwatch.GetElapsedTime(drain) < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(10, cancellation);
        }

        var drained = await CpuSnapshot.WaitForIdleAsync(context.Server.Pid, TimeSpan.FromSeconds(120), cancellation);

        LatencyStats lag;
        (LatencyStats Ok, long OkCount, long Failed, Dictionary<string, long> Statuses) merged;
        Timeline timeline;
        TailTimeline tail;
        lock (gate)
        {
            lag = LatencyStats.FromTicks([.. log.LagTicks]);
            merged = WorkerLog.Merge([log]);
            timeline = Timeline.From(log.OkAt, measureFrom, measureTo);
            // The p99 in ticks, as LatencyStats takes it (nearest rank), from the answers' latencies.
            var sorted = log.OkTicks.ToArray();
            Array.Sort(sorted);
            var threshold = sorted.Length == 0 ? long.MaxValue : LatencyStats.AtRank(sorted, 0.99);
            tail = TailTimeline.From(log.OkTicks, log.OkAt, threshold, measureFrom, measureTo);
        }

        var seconds = duration.TotalSeconds;
        return new PhaseResult
        {
            Name = name,
            Target = context.Server.Name,
            Mode = "open",
            Concurrency = maxInFlight,
            Wire = context.Wire,
            Keys = phaseKeys.Length,
            OfferedRate = Math.Round(rate, 1),
            Schedule = schedule.ToString().ToLowerInvariant(),
            DurationSeconds = seconds,
            Ok = merged.OkCount,
            Failed = merged.Failed,
            Dropped = dropped,
            Statuses = merged.Statuses,
            Throughput = Math.Round(merged.OkCount / seconds, 1),
            Latency = merged.Ok,
            Timeline = timeline,
            SendLag = lag,
            Tail = tail,
            WindowStart = windowStart,
            Cpu = CpuSnapshot.Between(cpuStart, cpuEnd, merged.OkCount + merged.Failed),
            Server = MetricsSnapshot.Between(metricsStart, metricsEnd),
            Drain = drained,
        };
    }

    /// <summary>A separate client for /metrics scrapes, so they never wait behind the load's connections.</summary>
    private static readonly HttpClient MetricsHttp = new() { Timeout = TimeSpan.FromSeconds(10) };

    private static async Task DelayUntilAsync(long timestamp, CancellationToken cancellation)
    {
        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, cancellation);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "nanosleep", SetLastError = true)]
    private static extern int NanoSleep(ref Timespec request, IntPtr remaining);

    /// <summary>Sleeps for a number of <see cref="Stopwatch"/> ticks with sub-millisecond precision (Thread.Sleep has 1 ms steps).</summary>
    private static void Sleep(long ticks)
    {
        var nanoseconds = (long)(ticks * (1e9 / Stopwatch.Frequency));
        var request = new Timespec { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };
        if (OperatingSystem.IsLinux())
        {
            _ = NanoSleep(ref request, IntPtr.Zero);
        }
        else
        {
            Thread.Sleep(TimeSpan.FromTicks(ticks * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
        }
    }
}
