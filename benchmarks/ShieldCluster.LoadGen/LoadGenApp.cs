using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Security.Cryptography;

namespace ShieldCluster.LoadGen;

/// <summary>The load generator: runs the phases one server at a time and reports.</summary>
internal static class LoadGenApp
{
    /// <summary>Below this many images in the pool (the repository's few samples, without the dataset) the report warns that clients resend them.</summary>
    private const int MinRealImages = 1_000;

    /// <summary>The entry point: 0 when it ran (ratios are reported, not asserted), 1 when a phase failed, 2 for a bad command line.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        LoadGenOptions options;
        try
        {
            options = LoadGenOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await stderr.WriteLineAsync(ex.Message);
            await stderr.WriteLineAsync(LoadGenOptions.Usage);
            return 2;
        }

        if (options.Help)
        {
            await stdout.WriteLineAsync(LoadGenOptions.Usage);
            return 0;
        }

        try
        {
            var command = "loadgen " + string.Join(' ', args);
            if (options.Repeat == 1)
            {
                var report = await RunReportAsync(options, command, stderr, cancellation);
                await WriteAsync(report.ToJson(), report.ToText());
                return 0;
            }

            var rounds = new List<BenchmarkReport>();
            await using (var kept = options.Interleave ? new ServerSet() : null)
            {
                for (var round = 1; round <= options.Repeat; round++)
                {
                    await stderr.WriteLineAsync($"[round {round} of {options.Repeat}]");
                    rounds.Add(await RunReportAsync(options, command, stderr, cancellation, kept, round));
                }
            }

            var repeated = new RepeatedReport { Command = command, Rounds = rounds, Interleaved = options.Interleave };
            await WriteAsync(repeated.ToJson(), repeated.ToText());
            return 0;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await stderr.WriteLineAsync($"load generator failed: {ex.Message}");
            return 1;
        }

        async Task WriteAsync(string json, string text)
        {
            await stdout.WriteLineAsync(options.Json ? json : text);
            if (options.JsonOut is not null)
            {
                await File.WriteAllTextAsync(options.JsonOut, json, cancellation);
            }
        }
    }

    /// <summary>
    /// Runs every selected phase; the report. <paramref name="kept"/>: the servers of an interleaved
    /// run, kept from round to round (<paramref name="round"/>, from 1), which runs its phases in
    /// alternating order and warms each later round's phases for <see cref="LoadGenOptions.RewarmSeconds"/> only.
    /// </summary>
    public static async Task<BenchmarkReport> RunReportAsync(LoadGenOptions o, string command, TextWriter log, CancellationToken cancellation,
        ServerSet? kept = null, int round = 1)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var loadBefore = LoadAverage();
        var root = FindRepositoryRoot();
        var models = Path.GetFullPath(o.Models ?? Path.Combine(root ?? throw new InvalidOperationException(
            "the repository (ShieldCluster.sln) was not found above the working directory or this program; pass --models"), "models"));
        var modelDirectory = Path.Combine(models, o.Model);
        if (!Directory.Exists(modelDirectory))
        {
            throw new InvalidOperationException($"{modelDirectory} does not exist (--model names a directory of --models {models})");
        }

        var modelPath = Directory.GetDirectories(modelDirectory)
            .Where(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            .OrderByDescending(d => int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture))
            .Select(d => Path.Combine(d, "model.onnx"))
            .FirstOrDefault(File.Exists) ?? throw new InvalidOperationException($"no <version>/model.onnx under {modelDirectory}");

        var needsServer = (o.NeedsUnprotectedServer && o.UnprotectedUrl is null) || (o.NeedsProtectedServer && o.ProtectedUrl is null);
        var (server, serverIsExe) = needsServer ? FindServer(o, root) : (null, false);

        log.WriteLine($"GC: {(GCSettings.IsServerGC ? "server" : "workstation")}; {Environment.ProcessorCount} cores; load average {loadBefore}");
        var spec = ModelSpec.Load(modelDirectory);
        // Fashion-MNIST: the real images. Any other model: seeded synthetic inputs from its config.
        IInputImages images = o.Model == "fashion-mnist" ? ImagePool.Load(modelDirectory) : SyntheticImages.Create(spec, o.Seed);
        if (o.CalibrateSqueezing.Count > 0 && round == 1)
        {
            var calibrated = SqueezeCalibrator.Run(modelDirectory, spec, images, o.CalibrateSqueezing, o.CalibrateCount, o.CalibrateRate, o.Device);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"squeezing calibrated for {o.Model} version {calibrated.Version} on {o.Device.ToString().ToLowerInvariant()}: squeezers {calibrated.Squeezers}; threshold {calibrated.Threshold} ({calibrated.Rate:P1} of {calibrated.Images} of the generator's inputs above it); {calibrated.HeldOutRate:P1} of {calibrated.Images} others flagged"));
            spec = ModelSpec.Load(modelDirectory);
        }

        var factory = new RequestFactory(spec, images, o.Wire);
        var slots = new SlotPool(factory);
        log.WriteLine($"model {o.Model}: input '{spec.InputName}' {spec.ShapeText} {spec.Datatype}, output '{spec.OutputName}' {spec.OutputElements} values; wire {o.Wire.ToString().ToLowerInvariant()}");
        log.WriteLine($"images: {images.Source}");

        // Servers kept from an earlier round (and bare ONNX Runtime, whose code is compiled by then) need
        // only their connections and caches warmed again. Interleaved runs warm both servers for --warmup
        // before round 1 measures either (WarmAsync), so round 1's server phases rewarm as later rounds' do.
        var warmup = TimeSpan.FromSeconds(kept is not null && round > 1 ? o.RewarmSeconds : o.WarmupSeconds);
        var serverWarmup = kept is not null ? TimeSpan.FromSeconds(o.RewarmSeconds) : warmup;
        var duration = TimeSpan.FromSeconds(o.DurationSeconds);
        var phases = new List<PhaseResult>();
        var clients = o.EffectiveClients;
        var prefix = "lg" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var maxInFlight = Math.Max(256, 8 * o.Concurrency);
        double? rate = o.Rate;
        var rateSource = o.Rate is null ? null : "--rate";
        RiskSummary? risk = null;

        if (o.RunBare)
        {
            var bareConcurrency = o.EffectiveBareConcurrency;
            phases.Add(await BareOrtLoad.ClosedLoopAsync(PhaseNames.Bare, modelPath, spec, images, o.Device, o.BareBatch, bareConcurrency, squeezed: false, warmup, duration, log, cancellation));
            log.WriteLine(Summary(phases[^1]));
            if (o.BareSqueezed)
            {
                await SettleAsync(cancellation);
                phases.Add(await BareOrtLoad.ClosedLoopAsync(PhaseNames.BareSqueezed, modelPath, spec, images, o.Device, o.BareBatch, bareConcurrency, squeezed: true, warmup, duration, log, cancellation));
                log.WriteLine(Summary(phases[^1]));
            }
        }

        // Interleaved rounds keep both servers for the whole run (started in round 1); otherwise each
        // round starts its servers and runs one at a time, the unprotected one stopped before the other starts.
        var servers = kept ?? new ServerSet();
        try
        {
            async Task<HttpLoad.Context> ContextAsync(bool protection) => await servers.GetAsync(protection, async () =>
            {
                var name = protection ? "protected" : "unprotected";
                var url = protection ? o.ProtectedUrl : o.UnprotectedUrl;
                var target = url is not null
                    ? ServerTarget.External(name, url, protection ? o.ProtectedGrpcUrl : o.UnprotectedGrpcUrl, o.AdminKey!)
                    : await ServerTarget.StartAsync(name, protection, server!, serverIsExe, models, o.ServerEnvironment, log, cancellation);
                try
                {
                    return (target, await PrepareAsync(target, o, slots, clients, prefix + (protection ? "-p" : "-u"), log, cancellation));
                }
                catch
                {
                    await target.DisposeAsync();
                    throw;
                }
            });

            async Task<PhaseResult> RunAsync(Func<HttpLoad.Context, Task<PhaseResult>> phase, bool protection)
            {
                await SettleAsync(cancellation);
                var result = await phase(await ContextAsync(protection));
                phases.Add(result);
                log.WriteLine(Summary(result));
                return result;
            }

            PhaseResult? unprotectedClosed = null, protectedClosed = null;
            async Task ClosedAsync(bool protection)
            {
                if (protection ? o.RunProtected : o.RunUnprotected)
                {
                    var closed = await RunAsync(c => HttpLoad.ClosedLoopAsync(c, protection ? PhaseNames.Protected : PhaseNames.Unprotected, o.Concurrency, oneKey: false, serverWarmup, duration, cancellation), protection);
                    if (protection)
                    {
                        protectedClosed = closed;
                    }
                    else
                    {
                        unprotectedClosed = closed;
                    }
                }
            }

            // A closed loop of --warmup seconds on one server, not reported: before round 1 of an interleaved run.
            async Task WarmAsync(bool protection)
            {
                if (protection ? o.NeedsProtectedServer : o.NeedsUnprotectedServer)
                {
                    await SettleAsync(cancellation);
                    var name = protection ? "protected" : "unprotected";
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{name}] warm-up before round 1: {o.WarmupSeconds:0.#} s closed loop, not measured"));
                    await HttpLoad.ClosedLoopAsync(await ContextAsync(protection), name + "-warm-up", o.Concurrency, oneKey: false,
                        TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(1), cancellation);
                }
            }

            async Task OpenAsync(bool protection)
            {
                if ((protection ? o.RunProtectedOpen : o.RunUnprotectedOpen) && rate is { } r)
                {
                    await RunAsync(c => HttpLoad.OpenLoopAsync(c, protection ? PhaseNames.ProtectedOpen : PhaseNames.UnprotectedOpen, r, o.Schedule, o.Seed, maxInFlight, serverWarmup, duration, cancellation), protection);
                }
            }

            void RateFromUnprotected()
            {
                if (rate is null && unprotectedClosed is { Throughput: > 0 })
                {
                    rate = o.RateFraction * unprotectedClosed.Throughput;
                    rateSource = $"{o.RateFraction:0.##} x the unprotected closed-loop peak of this {(kept is null ? "run" : "round")}";
                }
            }

            async Task ProtectedAfterClosedAsync()
            {
                if (o.RunProtectedOneKey)
                {
                    await RunAsync(c => HttpLoad.ClosedLoopAsync(c, PhaseNames.ProtectedOneKey, o.Concurrency, oneKey: true, serverWarmup, duration, cancellation), protection: true);
                }

                if (rate is null && protectedClosed is { Throughput: > 0 })
                {
                    rate = o.RateFraction * protectedClosed.Throughput;
                    rateSource = $"{o.RateFraction:0.##} x the PROTECTED closed-loop peak (the unprotected server was not measured)";
                }
            }

            if (kept is null)
            {
                // One server at a time: the unprotected server's phases, then the protected server's.
                await ClosedAsync(protection: false);
                RateFromUnprotected();
                await OpenAsync(protection: false);
                await servers.ReleaseAsync(protection: false);
                await ClosedAsync(protection: true);
                await ProtectedAfterClosedAsync();
                await OpenAsync(protection: true);
            }
            else
            {
                // Both servers up: the closed loops back to back, then the open loops, in alternating
                // order (odd rounds unprotected first, even rounds protected first), so a machine that
                // speeds up or slows down over a run favours neither server over a pair of rounds.
                var protectedFirst = round % 2 == 0;
                if (round == 1)
                {
                    // Both servers serve load before either is measured. Otherwise round 1's first window (the
                    // unprotected server's) ran beside a server that had never served (no idle work: 'other'
                    // 0.00-0.01 cores, against 0.06-0.14 in every later window), and the protected server's first
                    // window came 30 s into its first load: round 1 gave its run's lowest ratio in 11 of 16
                    // interleaved runs of sessions 27-30 (benchmarks/LOADGEN.md, Session 30).
                    await WarmAsync(protection: false);
                    await WarmAsync(protection: true);
                }

                await ClosedAsync(protectedFirst);
                await ClosedAsync(!protectedFirst);
                RateFromUnprotected();
                await ProtectedAfterClosedAsync();
                await OpenAsync(protectedFirst);
                await OpenAsync(!protectedFirst);
            }

            if (servers.Protected is { } protectedTarget)
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
                risk = await protectedTarget.RiskAsync(http, cancellation);
            }
        }
        finally
        {
            if (kept is null)
            {
                await servers.DisposeAsync();
            }
        }

        var bare = phases.FirstOrDefault(p => p.Name == PhaseNames.Bare);
        var protectedPhase = phases.FirstOrDefault(p => p.Name == PhaseNames.Protected);
        if (bare is not null && protectedPhase is not null && bare.Throughput > 0)
        {
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"protected / bare ONNX Runtime: {protectedPhase.Throughput / bare.Throughput:0.###} ({protectedPhase.Throughput:0.#} items/s over {o.Wire.ToString().ToLowerInvariant()}, {protectedPhase.Concurrency} clients at batch 1, against {bare.Throughput:0.#} items/s, {bare.Concurrency} x batch {bare.Batch} on {bare.Device})"));
        }

        var (commit, modified) = root is null ? (null, null) : Git(root);
        var open = phases.Where(p => p.Mode == "open").ToList();
        var overloaded = phases.Where(p => p.Mode == "open" && (p.Dropped > 0 || p.Throughput < 0.95 * (p.OfferedRate ?? 0)))
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name} answered {p.Throughput:0} of {p.OfferedRate:0} offered/s, {p.Dropped} arrivals dropped at {maxInFlight} in flight"))
            .ToList();
        var disturbed = phases.Where(p => p.Cpu is { OtherCores: > 0.15 }).Select(p => $"{p.Name} {p.Cpu!.OtherCores:0.00}").ToList();
        return new BenchmarkReport
        {
            StartedAt = started,
            Command = command,
            Machine = new MachineInfo(CpuModel(), Environment.ProcessorCount, MemoryGiB(), loadBefore, LoadAverage(), commit, modified),
            Images = images.Source,
            Model = o.Model,
            Wire = o.Wire.ToString().ToLowerInvariant(),
            ServerDll = server,
            ServerEnvironment = [.. o.ServerEnvironment.Select(kv => $"{kv.Key}={kv.Value}")],
            Phases = phases,
            Ratios = BenchmarkReport.ComputeRatios(phases),
            ProtectedRisk = risk,
            ElapsedSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
            Notes =
            [
                .. new[]
                {
                    $"Closed loop: each connection sends its next batch-1 {WireName(o.Wire)} request when its last answer came; items/s counts 200s completed in the measured window (one item each). Bare ONNX Runtime: items/s counts the rows of the Run calls completed in the window ({o.BareBatch} per call, {o.EffectiveBareConcurrency} concurrent callers, {o.Device.ToString().ToUpperInvariant()}); its latency is per Run call.",
                    open.Count == 0
                        ? null
                        : $"Open loop: arrivals at the offered rate ({rateSource ?? "none"})" +
                          $", {o.Schedule.ToString().ToLowerInvariant()} schedule seeded {o.Seed} (the same arrival times for both servers); latency runs from each request's scheduled send time, so generator or server stalls are not hidden (no coordinated omission).",
                    kept is null
                        ? "The generator runs on the same machine as the server (one server at a time, bare ONNX Runtime alone); its CPU use is in the CPU table."
                        : $"Interleaved round {round}: both servers run for the whole run (the idle one's CPU is in 'other'); {(round % 2 == 0 ? "the protected" : "the unprotected")} server's windows came first; {(round > 1 ? "" : $"before this round each server served a closed loop for {o.WarmupSeconds:0.#} s; ")}each server phase warmed for {o.RewarmSeconds:0.#} s. The generator runs on the same machine; its CPU use is in the CPU table.",
                    string.Create(CultureInfo.InvariantCulture, $"Stalls: the measured window's answers are counted in bins of 100 ms; 'slowest second' is the fewest items answered in any 1 s stretch of it, 'stalled s' the time in bins that answered under {Timeline.StallShare:P0} of the window's mean bin (a server or GPU pipeline that stopped answering). Open loop: answers to the window's arrivals that came inside it."),
                    images.Synthetic
                        ? $"Synthetic inputs: each client key walks its own stretch of {images.Count:N0} different pseudo-random images, each composed in place in the worker's own buffer, so no request repeats or nearly repeats another (resends are retries, which the detectors skip; near-duplicates look like a query-based attack). Keys: {clients} in the many-keys phases."
                        : images.Count < MinRealImages
                            ? $"WARNING: the image pool holds only {images.Count:N0} images ({images.Source}): every client resends them, the detectors skip most requests as retries and the cross-client index sees the same content from every key, so the protected figures are not comparable with runs on the dataset. Keys: {clients} in the many-keys phases."
                            : $"Each client key walks its own stretch of the image pool ({images.Count:N0} images), so no client resends an image within a run (resends are retries, which the detectors skip). Keys: {clients} in the many-keys phases.",
                    open.Count == 0
                        ? null
                        : overloaded.Count == 0
                            ? $"{(open.Count == 1 ? "The open-loop phase" : "Both open-loop phases")} kept up with the offered rate."
                            : $"OVERLOAD: {string.Join("; ", overloaded)}. The server could not sustain the offered rate, so its open-loop latency measures a growing queue (dropped arrivals are not in the percentiles), not the cost of protection at that load.",
                    spec.SqueezingCalibrated || !phases.Exists(p => p.Name.StartsWith(PhaseNames.Protected, StringComparison.Ordinal))
                        ? null
                        : $"NOTE: {o.Model}'s config.json has no feature-squeezing calibration (protection.squeezing: squeezers and thresholds), so the protected server squeezed nothing: its figures leave out the squeezed copies' model rows, which the default policy adds for a sample of requests once a model is calibrated.",
                    disturbed.Count == 0
                        ? "Other processes used under 0.15 cores in every measured window."
                        : $"WARNING: other processes on the machine used CPU during: {string.Join(", ", disturbed)} cores; those figures are disturbed.",
                }.OfType<string>(),
                "Server-side figures come from the server's /metrics (shield_inference_duration_seconds, shield_inference_batch_size, shield_model_calls_total and shield_model_call_items_total: the items per model call) before and after each window.",
            ],
        };
    }

    private static async Task<HttpLoad.Context> PrepareAsync(ServerTarget server, LoadGenOptions o, SlotPool slots, int clients, string prefix,
        TextWriter log, CancellationToken cancellation)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        // One more than the many-keys phases use: the one-key phase gets a fresh client of its own.
        var keys = await server.CreateClientsAsync(http, clients + 1, prefix, cancellation);
        log.WriteLine($"[{server.Name}] created {clients + 1} clients on plan '{ServerTarget.Plan}' ({prefix}-0 ... {prefix}-{clients}, the last for the one-key phase)");
        var factory = slots.Factory;
        var cursor = new ImageCursor(factory.Images.Count, clients + 1);
        // A slot of its own (not one a worker uses), holding the last image, checked once over the wire in use.
        var check = factory.CreateSlot(factory.Images.Count - 1);
        factory.Prepare(check, factory.Images.Count - 1);
        using var transport = InferTransport.Create(factory, server, o.Model, keys, 1, 1, o.HttpClient);
        await transport.VerifyAsync(check, 0, server.Name);
        // The same request through the client the phases use (the generator's own, by default): a 200 with the model's output.
        var sent = await transport.SendAsync(check, 0, cancellation);
        if (sent != 200)
        {
            throw new InvalidOperationException($"the {server.Name} server answered the load's {o.HttpClient} client with {(sent == InferTransport.BadOutput ? "a 200 without the model's output" : sent == InferTransport.TransportError ? "no answer" : sent.ToString(CultureInfo.InvariantCulture))} where HttpClient got a valid answer to the same request");
        }

        // The first /metrics scrape of a server compiles its export (about 0.3 s of a core), and the
        // generator's parser with it: done here, not at the start of the first measured window, where
        // on 2 busy cores it held up the open loop's first 200 ms (the p99 tail of '--phases open').
        await server.ScrapeAsync(http, cancellation);
        return new HttpLoad.Context(server, o.Model, slots, cursor, keys, o.GrpcWorkersPerChannel, log, o.HttpClient);
    }

    private static string WireName(Wire wire) => wire switch
    {
        Wire.Binary => "binary-tensor HTTP",
        Wire.Grpc => "gRPC",
        _ => "JSON",
    };

    /// <summary>A pause between phases: the generator's garbage collected, the server's background work settled.</summary>
    private static async Task SettleAsync(CancellationToken cancellation)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
    }

    private static string Summary(PhaseResult p) => string.Create(CultureInfo.InvariantCulture,
        $"[{p.Name}] {p.Throughput:0.#} items/s, p50 {p.Latency.P50Ms:0.00} ms, p99 {p.Latency.P99Ms:0.00} ms, not 200: {p.Failed}{(p.Dropped > 0 ? $", dropped {p.Dropped}" : "")}" +
        $"{(p.Timeline is { } t ? $", slowest second {t.SlowestSecondRate:0.#} items/s, stalled {t.StalledSeconds:0.0#} s" : "")}; " +
        $"CPU server {p.Cpu?.ServerCores:0.00} generator {p.Cpu?.GeneratorCores:0.00} (GC pauses {p.Cpu?.GeneratorGcPauseMs:0} ms) other {p.Cpu?.OtherCores:0.00} cores{(p.Drain is { } d ? $"; busy {d.Seconds:0.0} s ({d.ServerCpuSeconds:0.0} CPU s) after the load" : "")}");

    internal static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ShieldCluster.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>The server to start: --server-exe, --server-dll, or the built ShieldCluster.Server.dll.</summary>
    private static (string Path, bool Executable) FindServer(LoadGenOptions o, string? root)
    {
        if (o.ServerExe is { } exe)
        {
            return File.Exists(exe) ? (Path.GetFullPath(exe), true) : throw new InvalidOperationException($"--server-exe {exe} does not exist");
        }

        return (FindServerDll(o.ServerDll, root), false);
    }

    private static string FindServerDll(string? explicitPath, string? root)
    {
        if (explicitPath is not null)
        {
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : throw new InvalidOperationException($"--server-dll {explicitPath} does not exist");
        }

#if DEBUG
        string[] configurations = ["Debug", "Release"];
#else
        string[] configurations = ["Release", "Debug"];
#endif
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "ShieldCluster.Server.dll") };
        if (root is not null)
        {
            candidates.AddRange(configurations.Select(c => Path.Combine(root, "src", "ShieldCluster.Server", "bin", c, "net10.0", "linux-x64", "ShieldCluster.Server.dll")));
        }

        return candidates.FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(
            "the server is not built: run 'dotnet build -c Release src/ShieldCluster.Server' (building this project builds it too), or pass --server-dll / --protected-url and --unprotected-url. Looked at:\n  " + string.Join("\n  ", candidates));
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static double MemoryGiB()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            var kb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            return Math.Round(kb / 1024.0 / 1024.0, 1);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static (string? Commit, bool? Modified) Git(string root)
    {
        try
        {
            string Run(params string[] args)
            {
                var info = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in args)
                {
                    info.ArgumentList.Add(a);
                }

                using var p = Process.Start(info)!;
                var text = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                return p.ExitCode == 0 ? text.Trim() : throw new InvalidOperationException("git failed");
            }

            return (Run("rev-parse", "--short", "HEAD"), Run("status", "--porcelain", "--", "src").Length > 0);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return (null, null);
        }
    }
}
