namespace ShieldCluster.RedTeam.Target;

/// <summary>The parts of <c>GET /admin/clients/{id}</c> that judge detection.</summary>
public sealed record ClientReport
{
    /// <summary>The client.</summary>
    public required string ClientId { get; init; }

    /// <summary>Risk in [0, 1].</summary>
    public double Risk { get; init; }

    /// <summary>Enforcement now: ok, degraded, throttled or blocked.</summary>
    public string Enforcement { get; init; } = "ok";

    /// <summary>The harshest enforcement state the client was ever moved to (from its events), or <see cref="Enforcement"/>.</summary>
    public string WorstEnforcement { get; init; } = "ok";

    /// <summary>Each detector's signal.</summary>
    public IReadOnlyList<DetectorSignal> Detectors { get; init; } = [];

    /// <summary>Served items in the client's history (recorded after the answer, so it lags a little).</summary>
    public int HistoryItems { get; init; }

    /// <summary>The score of the named detector, 0 when absent.</summary>
    public double ScoreOf(string detector) => Detectors.FirstOrDefault(d => d.Name == detector)?.Score ?? 0;

    /// <summary>The highest detector score, 0 when none.</summary>
    public double MaxDetectorScore => Detectors.Count == 0 ? 0 : Detectors.Max(d => d.Score);

    /// <summary>True when the report shows the client was caught: enforcement ever above ok, or a detector at 1 or more.</summary>
    public bool Flagged => WorstEnforcement != "ok" || MaxDetectorScore >= 1;

    /// <summary>Severity order of enforcement states (unknown states rank as degraded).</summary>
    public static int Severity(string state) => state switch
    {
        "ok" => 0,
        "degraded" => 1,
        "throttled" => 2,
        "blocked" => 3,
        _ => 1,
    };
}
