using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ShieldCluster.LoadGen;

/// <summary>A ratio the issue sets a target for (or an absolute comparison without one).</summary>
internal sealed record Ratio(string Name, double? Value, string? Target, bool? Met, string Definition);

/// <summary>The machine the run used.</summary>
internal sealed record MachineInfo(string Cpu, int Cores, double MemoryGiB, string LoadAverageBefore, string LoadAverageAfter, string? GitCommit, bool? SourceModified);

/// <summary>Everything one run measured.</summary>
internal sealed record BenchmarkReport
{
    public required DateTimeOffset StartedAt { get; init; }

    public required string Command { get; init; }

    public required MachineInfo Machine { get; init; }

    public required string Images { get; init; }

    public string? Model { get; init; }

    /// <summary>The servers' protocol: json, binary or grpc.</summary>
    public string? Wire { get; init; }

    public string? ServerDll { get; init; }

    public IReadOnlyList<string> ServerEnvironment { get; init; } = [];

    public required IReadOnlyList<PhaseResult> Phases { get; init; }

    public required IReadOnlyList<Ratio> Ratios { get; init; }

    public RiskSummary? ProtectedRisk { get; init; }

    public required IReadOnlyList<string> Notes { get; init; }

    public double ElapsedSeconds { get; init; }

    /// <summary>How reports are written as JSON (<see cref="RepeatedReport"/> too).</summary>
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static BenchmarkReport FromJson(string json) => JsonSerializer.Deserialize<BenchmarkReport>(json, JsonOptions)!;

    /// <summary>Computes the issue's ratios from the phases (missing phases give null values).</summary>
    public static IReadOnlyList<Ratio> ComputeRatios(IReadOnlyList<PhaseResult> phases)
    {
        PhaseResult? Find(string name) => phases.FirstOrDefault(p => p.Name == name);
        var bare = Find(PhaseNames.Bare);
        var unprotected = Find(PhaseNames.Unprotected);
        var protectedMany = Find(PhaseNames.Protected);
        var oneKey = Find(PhaseNames.ProtectedOneKey);
        var openOff = Find(PhaseNames.UnprotectedOpen);
        var openOn = Find(PhaseNames.ProtectedOpen);

        static double? Div(PhaseResult? a, PhaseResult? b) =>
            a is null || b is null || b.Throughput <= 0 ? null : Math.Round(a.Throughput / b.Throughput, 3);

        var p99Added = openOn is null || openOff is null || openOn.Ok == 0 || openOff.Ok == 0
            ? (double?)null
            : Math.Round(openOn.Latency.P99Ms - openOff.Latency.P99Ms, 3);
        var p50Added = openOn is null || openOff is null || openOn.Ok == 0 || openOff.Ok == 0
            ? (double?)null
            : Math.Round(openOn.Latency.P50Ms - openOff.Latency.P50Ms, 3);

        var protectedRatio = Div(protectedMany, unprotected);
        var oneKeyRatio = Div(oneKey, protectedMany);
        return
        [
            new("protected / unprotected throughput", protectedRatio, ">= 0.80", Meets(">= 0.80", protectedRatio),
                "closed loop, many keys, same concurrency: protected req/s over unprotected req/s"),
            new("one key / many keys throughput (protected)", oneKeyRatio, ">= 0.70", Meets(">= 0.70", oneKeyRatio),
                "protected server: all connections on one client key over one key per connection"),
            new("p99 added by protection at the fixed offered load (ms)", p99Added, "<= 1 ms", Meets("<= 1 ms", p99Added),
                $"open loop at {openOff?.OfferedRate?.ToString("0.#", CultureInfo.InvariantCulture) ?? "?"} req/s: protected p99 minus unprotected p99, latency from the scheduled send time"),
            new("p50 added by protection at the fixed offered load (ms)", p50Added, null, null, "as above, at the median"),
            new("protected / bare ONNX Runtime throughput", Div(protectedMany, bare), null, null,
                $"items/s: the whole protected server (batch-1 clients) against the model alone in process{BareSetting(bare)}"),
            new("unprotected / bare ONNX Runtime throughput", Div(unprotected, bare), null, null,
                $"items/s: HTTP or gRPC, parsing, grains without protection against the model alone{BareSetting(bare)}"),
        ];
    }

    /// <summary>Whether <paramref name="value"/> meets <paramref name="target"/> (<c>&gt;= X</c> or <c>&lt;= X</c>, a unit after X ignored); null without either.</summary>
    public static bool? Meets(string? target, double? value)
    {
        if (target is null || value is not { } v)
        {
            return null;
        }

        var bound = double.Parse(target[2..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return target.StartsWith(">=", StringComparison.Ordinal) ? v >= bound
            : target.StartsWith("<=", StringComparison.Ordinal) ? v <= bound
            : throw new ArgumentException($"a target is '>= X' or '<= X' (got '{target}')", nameof(target));
    }

    /// <summary>A ratio's verdict in the tables: met, NOT met, n/a (a target but no value), - (no target).</summary>
    internal static string Verdict(Ratio ratio) =>
        ratio.Met is { } met ? (met ? "met" : "NOT met") : ratio.Target is null ? "-" : "n/a";

    private static string BareSetting(PhaseResult? bare) =>
        bare is null ? "" : string.Create(CultureInfo.InvariantCulture, $" ({bare.Concurrency} concurrent Run calls of batch {bare.Batch} on {bare.Device ?? "cpu"})");

    /// <summary>The report as markdown tables.</summary>
    public string ToText()
    {
        var s = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        s.AppendLine(inv, $"ShieldCluster load generator, {StartedAt:yyyy-MM-dd HH:mm} UTC, {ElapsedSeconds:0} s");
        s.AppendLine(inv, $"machine: {Machine.Cpu}, {Machine.Cores} cores, {Machine.MemoryGiB:0.#} GiB; load average before {Machine.LoadAverageBefore}, after {Machine.LoadAverageAfter}");
        if (Machine.GitCommit is not null)
        {
            s.AppendLine(inv, $"commit: {Machine.GitCommit}{(Machine.SourceModified == true ? " (src/ has uncommitted changes)" : "")}");
        }

        s.AppendLine(inv, $"command: {Command}");
        if (Model is not null)
        {
            s.AppendLine(inv, $"model: {Model}; wire: {Wire ?? "json"}");
        }

        s.AppendLine(inv, $"images: {Images}");
        if (ServerDll is not null)
        {
            s.AppendLine(inv, $"server: {ServerDll}{(ServerEnvironment.Count > 0 ? " with " + string.Join(' ', ServerEnvironment) : "")}");
        }

        s.AppendLine();
        s.AppendLine("| phase | mode | conc. | batch | keys | offered/s | items/s | slowest second items/s | stalled s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | not 200 |");
        s.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var p in Phases)
        {
            var l = p.Latency;
            var timeline = p.Timeline;
            var failed = p.Failed + p.Dropped == 0 ? "0" : string.Join(", ", p.Statuses.Where(kv => kv.Key != "200").Select(kv => $"{kv.Key}: {kv.Value}").Append(p.Dropped > 0 ? $"dropped: {p.Dropped}" : null).OfType<string>());
            s.AppendLine(inv, $"| {p.Name} | {p.Mode} | {(p.Mode == "open" ? "-" : p.Concurrency.ToString(inv))} | {p.Batch.ToString(inv)}{(p.Device is { } dev ? " " + dev : "")} | {(p.Keys == 0 ? "-" : p.Keys.ToString(inv))} | {(p.OfferedRate is { } r ? r.ToString("0.#", inv) : "-")} | {p.Throughput:0.#} | {timeline?.SlowestSecondRate.ToString("0.#", inv) ?? "-"} | {timeline?.StalledSeconds.ToString("0.0#", inv) ?? "-"} | {l.P50Ms:0.00} | {l.P95Ms:0.00} | {l.P99Ms:0.00} | {l.P999Ms:0.00} | {l.MaxMs:0.0} | {failed} |");
        }

        s.AppendLine();
        s.AppendLine("| ratio | value | target | met |");
        s.AppendLine("|---|---:|---|---|");
        foreach (var r in Ratios)
        {
            s.AppendLine(inv, $"| {r.Name} | {(r.Value is { } v ? v.ToString("0.###", inv) : "n/a")} | {r.Target ?? "-"} | {Verdict(r)} |");
        }

        s.AppendLine();
        s.AppendLine("Where the CPU went (cores = CPU seconds per second over the measured window; the machine has " + Machine.Cores.ToString(inv) + "; 'after the window': how long the server stayed busy once the load stopped, finishing queued detector and state work):");
        s.AppendLine();
        s.AppendLine("| phase | server cores | generator cores | other processes | server CPU ms/req | after the window: s busy, CPU s | server CPU ms/req incl. after | generator CPU ms/req | generator GC pause ms | server-side mean ms | server-side p99 | items per model call | admitted under a lease | cross-client checks skipped | open-loop send lag p99 ms |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|");
        foreach (var p in Phases)
        {
            var c = p.Cpu;
            s.AppendLine(inv, $"| {p.Name} | {c?.ServerCores?.ToString("0.00", inv) ?? "-"} | {c?.GeneratorCores.ToString("0.00", inv) ?? "?"} | {c?.OtherCores.ToString("0.00", inv) ?? "?"} | {c?.ServerCpuMsPerRequest?.ToString("0.000", inv) ?? "-"} | {(p.Drain is { } d ? $"{d.Seconds:0.0}, {d.ServerCpuSeconds:0.0}" : "-")} | {p.ServerCpuMsPerRequestWithDrain?.ToString("0.000", inv) ?? "-"} | {c?.GeneratorCpuMsPerRequest.ToString("0.000", inv) ?? "?"} | {c?.GeneratorGcPauseMs?.ToString("0.#", inv) ?? "-"} | {p.Server?.MeanMs.ToString("0.00", inv) ?? "-"} | {p.Server?.P99Bucket ?? "-"} | {p.Server?.MeanModelBatch?.ToString("0.0", inv) ?? "-"} | {(p.Server?.LeasedShare is { } share ? share.ToString("P0", inv) : "-")} | {(p.Server?.CrossClientSkippedShare is { } skipped ? skipped.ToString("P1", inv) : "-")} | {p.SendLag?.P99Ms.ToString("0.00", inv) ?? "-"} |");
        }

        var tails = Phases.Where(p => p.Tail is { Counts.Length: > 0 }).ToList();
        if (tails.Count > 0)
        {
            s.AppendLine();
            s.AppendLine("Where the open loops' tails came from (answers at or above the p99, by the 100 ms bin in which they were scheduled; 'half in': the fewest bins holding half of them, as a share of the window, about 50 % when spread evenly; 'folded': the tail folded onto each period, its busiest bin's share times the bins in a period, 1 when it does not follow the period):");
            s.AppendLine();
            s.AppendLine("| phase | p99 ms | answers in the tail | half in | folded 1 s | folded 2 s | folded 5 s |");
            s.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
            foreach (var p in tails)
            {
                var t = p.Tail!;
                var folded = t.Folded;
                string Fold(string period) => folded.TryGetValue(period, out var v) ? v.ToString("0.00", inv) : "-";
                s.AppendLine(inv, $"| {p.Name} | {t.ThresholdMs:0.00} | {t.Counts.Sum()} | {t.HalfShare:P1} | {Fold("1s")} | {Fold("2s")} | {Fold("5s")} |");
            }
        }

        if (ProtectedRisk is { } risk)
        {
            s.AppendLine();
            s.AppendLine(inv, $"protected server after its phases: {risk.ClientsWithRisk} client(s) in the risk index, highest risk {risk.MaxRisk:0.###}, enforcement {(risk.ByEnforcement.Count == 0 ? "none" : string.Join(", ", risk.ByEnforcement.Select(kv => $"{kv.Key}: {kv.Value}")))}");
        }

        s.AppendLine();
        foreach (var note in Notes)
        {
            s.AppendLine("- " + note);
        }

        return s.ToString();
    }
}

/// <summary>The phase names.</summary>
internal static class PhaseNames
{
    public const string Bare = "bare-ort";
    public const string BareSqueezed = "bare-ort-2-rows";
    public const string Unprotected = "unprotected";
    public const string UnprotectedOpen = "unprotected-open";
    public const string Protected = "protected";
    public const string ProtectedOneKey = "protected-one-key";
    public const string ProtectedOpen = "protected-open";
}

/// <summary>Several rounds of the same selection (<c>--repeat</c>): each round's report, and each ratio's median over the rounds.</summary>
internal sealed record RepeatedReport
{
    public required string Command { get; init; }

    public required IReadOnlyList<BenchmarkReport> Rounds { get; init; }

    /// <summary>Both servers kept for every round, their phases in alternating order (<c>--interleave</c>).</summary>
    public bool Interleaved { get; init; }

    /// <summary>Each ratio's median over the rounds that gave it a value (the mean of the middle two for an even count), judged against its target.</summary>
    public IReadOnlyList<Ratio> Medians => Rounds.Count == 0 ? [] :
    [
        .. Rounds[0].Ratios.Select(first =>
        {
            var values = Rounds.Select(r => r.Ratios.FirstOrDefault(x => x.Name == first.Name)?.Value).OfType<double>().Order().ToList();
            double? median = values.Count == 0 ? null
                : Math.Round(values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2, 3);
            return first with { Value = median, Met = BenchmarkReport.Meets(first.Target, median), Definition = $"median of {values.Count} round(s): {first.Definition}" };
        }),
    ];

    public string ToJson() => JsonSerializer.Serialize(this, BenchmarkReport.JsonOptions);

    public static RepeatedReport FromJson(string json) => JsonSerializer.Deserialize<RepeatedReport>(json, BenchmarkReport.JsonOptions)!;

    /// <summary>Every round's tables, then one table of each ratio by round with its median.</summary>
    public string ToText()
    {
        var s = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        for (var i = 0; i < Rounds.Count; i++)
        {
            s.AppendLine(inv, $"## Round {i + 1} of {Rounds.Count}");
            s.AppendLine();
            s.AppendLine(Rounds[i].ToText());
        }

        s.AppendLine(inv, $"## The {Rounds.Count} rounds together");
        s.AppendLine();
        s.AppendLine(Interleaved
            ? "Interleaved: both servers started once and kept for every round; odd rounds ran the unprotected server's windows first, even rounds the protected server's."
            : "Each round started its servers afresh.");
        s.AppendLine();
        s.AppendLine(inv, $"| ratio | {string.Join(" | ", Rounds.Select((_, i) => $"round {i + 1}"))} | median | target | median met |");
        s.AppendLine(inv, $"|---|{string.Concat(Rounds.Select(_ => "---:|"))}---:|---|---|");
        foreach (var median in Medians)
        {
            var values = Rounds.Select(r => r.Ratios.FirstOrDefault(x => x.Name == median.Name)?.Value is { } v ? v.ToString("0.###", inv) : "n/a");
            s.AppendLine(inv, $"| {median.Name} | {string.Join(" | ", values)} | {(median.Value is { } m ? m.ToString("0.###", inv) : "n/a")} | {median.Target ?? "-"} | {BenchmarkReport.Verdict(median)} |");
        }

        return s.ToString();
    }
}
