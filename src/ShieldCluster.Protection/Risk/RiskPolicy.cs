using System.Globalization;

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
    /// The weight of a novel input in the extraction volume when every answer a client received today
    /// is one class; answers spread evenly over all the model's classes (a Knockoff or Copycat
    /// transfer set) weigh 1, and coverage between weighs in proportion (see <c>ExtractionCoverage</c>).
    /// Default 0.5: a client whose answers concentrate on a few classes, as honest use tends to, may
    /// send up to twice the budget before it is judged extraction. 1 turns the coverage weighting off.
    /// </summary>
    public double ConcentratedWeight { get; set; } = 0.5;

    /// <summary>
    /// Whether the extraction detector also compares a client's coverage-weighted novel inputs today
    /// with those of the other clients of its plan (their 90th percentile). Default true.
    /// </summary>
    public bool ComparePeers { get; set; } = true;

    /// <summary>
    /// Other clients of the plan that must have reported today before the peer comparison counts.
    /// Default 5: a plan with fewer clients relies on <see cref="ExtractionBudget"/> alone.
    /// </summary>
    public int PeerMinPeers { get; set; } = 5;

    /// <summary>
    /// The least the peers' 90th percentile counts for, in novel inputs: early in the day, or on a
    /// plan of light users, a client is not judged against a tiny percentile. Default 200.
    /// </summary>
    public int PeerFloor { get; set; } = 200;

    /// <summary>
    /// A client whose coverage-weighted novel inputs today reach this multiple of its peers' 90th
    /// percentile (at least <see cref="PeerFloor"/>) is degraded, even below the budget. Default 3:
    /// honest heavy users within the usual spread sit at or below about 1.
    /// </summary>
    public double PeerDegradeRatio { get; set; } = 3;

    /// <summary>
    /// ... and throttled at this multiple. Default 6. The peer comparison never blocks on its own:
    /// a block takes twice the budget.
    /// </summary>
    public double PeerThrottleRatio { get; set; } = 6;

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

        if (!(ConcentratedWeight > 0 && ConcentratedWeight <= 1))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"{prefix}:ConcentratedWeight must be in (0, 1] (got {ConcentratedWeight})");
        }

        if (PeerMinPeers < 1)
        {
            yield return $"{prefix}:PeerMinPeers must be at least 1 (got {PeerMinPeers}; ComparePeers=false turns the peer comparison off)";
        }

        if (PeerFloor < 1)
        {
            yield return $"{prefix}:PeerFloor must be at least 1 (got {PeerFloor})";
        }

        if (!(PeerDegradeRatio > 1) || double.IsInfinity(PeerDegradeRatio))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"{prefix}:PeerDegradeRatio must be a number above 1 (got {PeerDegradeRatio})");
        }
        else if (!(PeerThrottleRatio >= PeerDegradeRatio) || double.IsInfinity(PeerThrottleRatio))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"{prefix}:PeerThrottleRatio must be a number at least PeerDegradeRatio ({PeerDegradeRatio}) (got {PeerThrottleRatio})");
        }

        foreach (var name in MonitorOnlyNames.Where(n => !RiskScorer.Detectors.Contains(n, StringComparer.OrdinalIgnoreCase)))
        {
            yield return $"{prefix}:MonitorOnly names unknown detector '{name}' (known: {string.Join(", ", RiskScorer.Detectors)})";
        }
    }
}
