namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>The whole evaluation: every attack on every target, and the honest clients.</summary>
public sealed record EvaluationReport
{
    /// <summary>When the run started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>How long it took, in seconds.</summary>
    public double Seconds { get; init; }

    /// <summary>The seed every attack derives its randomness from.</summary>
    public int Seed { get; init; }

    /// <summary>The scale of the budgets.</summary>
    public AttackScale Scale { get; init; }

    /// <summary>The protected target's URL.</summary>
    public required string ProtectedUrl { get; init; }

    /// <summary>The baseline target's URL, if one was given.</summary>
    public string? BaselineUrl { get; init; }

    /// <summary>Plan of the attack clients.</summary>
    public string AttackerPlan { get; init; } = "standard";

    /// <summary>Plan of the honest clients.</summary>
    public string HonestPlan { get; init; } = "standard";

    /// <summary>One row per attack and target.</summary>
    public IReadOnlyList<AttackResult> Attacks { get; init; } = [];

    /// <summary>One row per target the honest clients ran against.</summary>
    public IReadOnlyList<HonestClientsResult> Honest { get; init; } = [];

    /// <summary>Targets that could not be used, with why.</summary>
    public IReadOnlyList<string> UnreachableTargets { get; init; } = [];

    /// <summary>True when every target answered and no attack errored.</summary>
    public bool Complete => UnreachableTargets.Count == 0 && Attacks.All(a => a.Error is null) && Honest.All(h => h.Error is null);
}
