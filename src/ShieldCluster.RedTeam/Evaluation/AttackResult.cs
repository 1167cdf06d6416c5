namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>One attack against one target: detection, cost and success.</summary>
public sealed record AttackResult
{
    /// <summary>The attack's name.</summary>
    public required string Attack { get; init; }

    /// <summary>"protected" or "baseline".</summary>
    public required string Target { get; init; }

    /// <summary>Whether the target was caught defending: a refusal or degraded answer, enforcement above ok, or a detector at 1 or more.</summary>
    public bool Detected { get; init; }

    /// <summary>What showed the detection.</summary>
    public string? DetectedBy { get; init; }

    /// <summary>Attack queries (items) up to and including the first refused or degraded one; null if none.</summary>
    public int? QueriesToFirstRefusal { get; init; }

    /// <summary>Attack queries (items) sent in all.</summary>
    public int Queries { get; init; }

    /// <summary>Attack clients used (transfer uses one per example).</summary>
    public int Clients { get; init; }

    /// <summary>Refused requests (403 or 400).</summary>
    public int Refusals { get; init; }

    /// <summary>Items answered degraded.</summary>
    public int DegradedItems { get; init; }

    /// <summary>429s waited out; rate limiting, not detection.</summary>
    public int RateLimitWaits { get; init; }

    /// <summary>Whether the attack reached its goal.</summary>
    public bool GoalReached { get; init; }

    /// <summary>The goal criterion, stated.</summary>
    public string Goal { get; init; } = "";

    /// <summary>One line on what happened.</summary>
    public string Summary { get; init; } = "";

    /// <summary>Numbers: distances, accuracies, rates.</summary>
    public IReadOnlyDictionary<string, double> Details { get; init; } = new SortedDictionary<string, double>();

    /// <summary>The harshest enforcement state any attack client reached (admin report), if known.</summary>
    public string? Enforcement { get; init; }

    /// <summary>The highest risk any attack client reached (admin report), if known.</summary>
    public double? Risk { get; init; }

    /// <summary>Detectors at 1 or more on any attack client.</summary>
    public IReadOnlyList<string> DetectorsFired { get; init; } = [];

    /// <summary>For protected rows: "valid", "invalid (no baseline success)" or "no baseline"; for baseline rows null.</summary>
    public string? Validity { get; init; }

    /// <summary>Set when the attack could not run to its end.</summary>
    public string? Error { get; init; }
}
