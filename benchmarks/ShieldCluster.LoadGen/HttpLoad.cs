using System.Buffers;
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

    public int Keys { get; init; }

    public double? OfferedRate { get; init; }

    public string? Schedule { get; init; }

    public double DurationSeconds { get; init; }

    public long Ok { get; init; }

    public long Failed { get; init; }

    /// <summary>Open loop: arrivals not sent because too many requests were already in flight.</summary>
    public long Dropped { get; init; }

    public Dictionary<string, long> Statuses { get; init; } = [];

    /// <summary>Answered (200) requests per second.</summary>
    public double Throughput { get; init; }

    /// <summary>Of answered requests. Open loop: from each request's scheduled send time.</summary>
    public required LatencyStats Latency { get; init; }

    /// <summary>Open loop: how late the generator sent each request after its scheduled time.</summary>
    public LatencyStats? SendLag { get; init; }

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

/// <summary>A connection pool to one server's infer endpoint; request bodies come from the image pool.</summary>
internal sealed class InferClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _infer;

    public InferClient(Uri baseAddress, string model, int maxConnections)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        _infer = new Uri(baseAddress, $"/v2/models/{model}/infer");
    }

    /// <summary>Sends one request and reads the whole answer; the status, or 0 for a transport failure.</summary>
    public async Task<int> SendAsync(byte[] body, string authorization, CancellationToken cancellation = default)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _infer) { Content = new ByteArrayContent(body) };
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellation);
            var buffer = ArrayPool<byte>.Shared.Rent(8192);
            try
            {
                while (await stream.ReadAsync(buffer, cancellation) > 0)
                {
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
        catch (TaskCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return 0; // timeout
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>One request whose answer is read and checked: a 200 with the model's output of shape [1,10].</summary>
    public async Task VerifyAsync(byte[] body, string authorization, string target)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _infer) { Content = new ByteArrayContent(body) };
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != System.Net.HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"the {target} server answered {(int)response.StatusCode} to a valid request: {text}");
        }

        using var doc = System.Text.Json.JsonDocument.Parse(text);
        var output = doc.RootElement.GetProperty("outputs")[0];
        if (output.GetProperty("data").GetArrayLength() != 10)
        {
            throw new InvalidOperationException($"the {target} server answered an unexpected output: {text}");
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The closed-loop and open-loop HTTP phases.</summary>
internal static class HttpLoad
{
    /// <summary>What a phase needs from its server.</summary>
    internal sealed record Context(ServerTarget Server, string Model, ImagePool Pool, ImageCursor Cursor, string[] Keys, TextWriter Log);

    /// <summary>
    /// <paramref name="concurrency"/> workers, each with its own connection, each sending its next
    /// request as soon as its last answer came. With <paramref name="oneKey"/> every worker uses the first key.
    /// </summary>
    public static async Task<PhaseResult> ClosedLoopAsync(Context context, string name, int concurrency, bool oneKey,
        TimeSpan warmup, TimeSpan duration, CancellationToken cancellation)
    {
        using var client = new InferClient(context.Server.BaseAddress, context.Model, concurrency);
        // Many keys: every key but the last. One key: the last, kept fresh for this phase, so that
        // both phases start from clients the server has not seen (a new client's detectors cost more).
        var many = context.Keys.Length - 1;
        var authorizations = (oneKey ? context.Keys[many..] : context.Keys[..many]).Select(k => "Bearer " + k).ToArray();
        var cursorBase = oneKey ? many : 0;
        var keys = authorizations.Length;
        var logs = Enumerable.Range(0, concurrency).Select(_ => new WorkerLog()).ToArray();
        long measureStart = long.MaxValue, measureEnd = long.MaxValue;

        async Task Worker(int w)
        {
            await Task.Yield();
            var log = logs[w];
            for (long j = 0; ; j++)
            {
                var key = (int)((w + j * concurrency) % keys);
                var body = context.Pool.Body(context.Cursor.Next(cursorBase + key));
                var t0 = Stopwatch.GetTimestamp();
                var status = await client.SendAsync(body, authorizations[key], cancellation);
                var t1 = Stopwatch.GetTimestamp();
                var end = Volatile.Read(ref measureEnd);
                if (t1 > end || cancellation.IsCancellationRequested)
                {
                    return;
                }

                if (t1 >= Volatile.Read(ref measureStart))
                {
                    log.Add(status, t1 - t0);
                }
            }
        }

        context.Log.WriteLine($"[{name}] closed loop, {concurrency} connections, {keys} key(s): {warmup.TotalSeconds:0.#} s warm-up, {duration.TotalSeconds:0.#} s measured");
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
            Keys = keys,
            DurationSeconds = Math.Round(seconds, 3),
            Ok = ok,
            Failed = failed,
            Statuses = statuses,
            Throughput = Math.Round(ok / seconds, 1),
            Latency = latency,
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
        using var client = new InferClient(context.Server.BaseAddress, context.Model, Math.Max(64, maxInFlight));
        var authorizations = context.Keys[..^1].Select(k => "Bearer " + k).ToArray();
        var log = new WorkerLog();
        var gate = new Lock();
        long inFlight = 0, dropped = 0;
        var frequency = (double)Stopwatch.Frequency;
        var random = new Random(seed);
        var total = warmup + duration;

        context.Log.WriteLine($"[{name}] open loop, {rate:0.#} requests/s ({schedule.ToString().ToLowerInvariant()}), {authorizations.Length} key(s): {warmup.TotalSeconds:0.#} s warm-up, {duration.TotalSeconds:0.#} s measured");

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
            var key = k % authorizations.Length;
            var body = context.Pool.Body(context.Cursor.Next(key));
            var status = await client.SendAsync(body, authorizations[key], cancellation);
            var latency = Stopwatch.GetTimestamp() - scheduled;
            if (measured)
            {
                lock (gate)
                {
                    log.Add(status, latency);
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
        lock (gate)
        {
            lag = LatencyStats.FromTicks([.. log.LagTicks]);
            merged = WorkerLog.Merge([log]);
        }

        var seconds = duration.TotalSeconds;
        return new PhaseResult
        {
            Name = name,
            Target = context.Server.Name,
            Mode = "open",
            Concurrency = maxInFlight,
            Keys = authorizations.Length,
            OfferedRate = Math.Round(rate, 1),
            Schedule = schedule.ToString().ToLowerInvariant(),
            DurationSeconds = seconds,
            Ok = merged.OkCount,
            Failed = merged.Failed,
            Dropped = dropped,
            Statuses = merged.Statuses,
            Throughput = Math.Round(merged.OkCount / seconds, 1),
            Latency = merged.Ok,
            SendLag = lag,
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
