namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>What to run.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Names from <see cref="AttackCatalog.Names"/>.</summary>
    public IReadOnlyList<string> Attacks { get; init; } = AttackCatalog.Names;

    /// <summary>Budgets.</summary>
    public AttackScale Scale { get; init; } = AttackScale.Small;

    /// <summary>The seed of every random choice.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Plan of attack clients.</summary>
    public string AttackerPlan { get; init; } = "standard";

    /// <summary>Plan of honest and measuring clients.</summary>
    public string HonestPlan { get; init; } = "standard";
}
