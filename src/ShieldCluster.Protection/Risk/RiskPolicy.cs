namespace ShieldCluster.Protection.Risk;

/// <summary>
/// How risk turns into enforcement: the thresholds of the ladder, what each step does, and which
/// detectors only monitor (they score and record; enforcement ignores them).
/// </summary>
public sealed class RiskPolicy
{
    /// <summary>Risk at which outputs are degraded. Default 0.4.</summary>
    public double DegradeAt { get; set; } = 0.4;

    /// <summary>Risk at which the client is throttled. Default 0.7.</summary>
    public double ThrottleAt { get; set; } = 0.7;

    /// <summary>Risk at which the client is blocked. Default 0.9.</summary>
    public double BlockAt { get; set; } = 0.9;

    /// <summary>How long an automatic block lasts. Default 1 hour.</summary>
    public TimeSpan BlockFor { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A throttled client's request rate, as a fraction of its plan's. Default 0.1.</summary>
    public double ThrottleFactor { get; set; } = 0.1;

    /// <summary>
    /// Novel inputs (retries excluded) a client may send per UTC day before the extraction detector
    /// degrades its outputs; throttled at 1.5 times this, blocked at twice. Default 2,000: natural-data
    /// extraction (Knockoff Nets, Copycat CNN) needs thousands of diverse labelled inputs, and looks
    /// like honest traffic in everything but volume. Raise it for plans whose honest clients send more.
    /// </summary>
    public int ExtractionBudget { get; set; } = 2_000;

    /// <summary>
    /// Answer novel inputs beyond <see cref="ExtractionBudget"/> with misinformation (the one-hot of a
    /// fixed wrong class; see <c>Misinformation</c>) instead of degraded outputs, until the block at
    /// twice the budget. Default true: label-preserving answers beyond the budget still let a
    /// Knockoff copy reach 0.85 agreement at a 10,000-query budget, misinformation brings it to 0.53
    /// (README, red team). It CHANGES answers: a client beyond its plan's budget, which the ladder
    /// already treats as an extraction attack (throttled at 1.5 times, blocked at twice), gets wrong
    /// labels without being told; the step is a security event with its evidence. Size each plan's
    /// budget above its honest use, or set false to answer label-only instead.
    /// </summary>
    public bool Misinform { get; set; } = true;

    /// <summary>
    /// Detectors that only monitor (they score and record; enforcement ignores them), comma-separated,
    /// e.g. <c>prada,squeezing</c>; empty: all enforce. Default <c>prada</c>: in the full-scale
    /// evaluation PRADA missed the red team's JbDA (W 0.97; squeezing and the extraction budget caught
    /// it) and blocked 1 of 50 honest clients (W 0.84), so it reports until it is tuned on live traffic.
    /// </summary>
    public string MonitorOnly { get; set; } = RiskScorer.Prada;

    /// <summary>Whether <paramref name="detector"/> only monitors.</summary>
    public bool IsMonitorOnly(string detector) => Array.Exists(MonitorOnlyNames, name => string.Equals(name, detector, StringComparison.OrdinalIgnoreCase));

    // Parsed once per value of MonitorOnly (it is asked for every query), swapped whole.
    private ParsedNames? _parsed;

    private string[] MonitorOnlyNames
    {
        get
        {
            var raw = MonitorOnly;
            var parsed = Volatile.Read(ref _parsed);
            if (parsed is null || !ReferenceEquals(parsed.Raw, raw))
            {
                parsed = new ParsedNames(raw, raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                Volatile.Write(ref _parsed, parsed);
            }

            return parsed.Names;
        }
    }

    private sealed record ParsedNames(string Raw, string[] Names);

    /// <summary>The ladder step for a risk score.</summary>
    public EnforcementLevel LevelFor(double risk) =>
        risk >= BlockAt ? EnforcementLevel.Blocked
        : risk >= ThrottleAt ? EnforcementLevel.Throttled
        : risk >= DegradeAt ? EnforcementLevel.Degraded
        : EnforcementLevel.Ok;

    /// <summary>Every failure of the thresholds' order and ranges, naming <paramref name="prefix"/>'s keys.</summary>
    public IEnumerable<string> Validate(string prefix)
    {
        if (!(DegradeAt > 0 && DegradeAt <= ThrottleAt && ThrottleAt <= BlockAt && BlockAt <= 1))
        {
            yield return $"{prefix}: thresholds must satisfy 0 < DegradeAt <= ThrottleAt <= BlockAt <= 1";
        }

        if (BlockFor <= TimeSpan.Zero)
        {
            yield return $"{prefix}:BlockFor must be positive";
        }

        if (ExtractionBudget < 1)
        {
            yield return $"{prefix}:ExtractionBudget must be at least 1";
        }

        if (!(ThrottleFactor > 0 && ThrottleFactor <= 1))
        {
            yield return $"{prefix}:ThrottleFactor must be in (0, 1]";
        }

        foreach (var name in MonitorOnlyNames.Where(n => !RiskScorer.Detectors.Contains(n, StringComparer.OrdinalIgnoreCase)))
        {
            yield return $"{prefix}:MonitorOnly names unknown detector '{name}' (known: {string.Join(", ", RiskScorer.Detectors)})";
        }
    }
}
