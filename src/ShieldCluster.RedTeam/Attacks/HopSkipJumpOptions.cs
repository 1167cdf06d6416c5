using ShieldCluster.RedTeam.Evaluation;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>Budgets of <see cref="HopSkipJumpAttack"/>.</summary>
public sealed record HopSkipJumpOptions
{
    /// <summary>Images attacked, one after another, by the same client.</summary>
    public int Images { get; init; } = 2;

    /// <summary>Queries per image.</summary>
    public int QueriesPerImage { get; init; } = 5000;

    /// <summary>Monte-Carlo samples at the first iteration (grows with √t).</summary>
    public int InitialEvaluations { get; init; } = 100;

    /// <summary>Most Monte-Carlo samples per iteration.</summary>
    public int MaxEvaluations { get; init; } = 1000;

    /// <summary>Goal: an adversarial example within this L2 distance.</summary>
    public float MaxL2 { get; init; } = 3.0f;

    /// <summary>The budgets for <paramref name="scale"/>.</summary>
    public static HopSkipJumpOptions For(AttackScale scale) =>
        scale == AttackScale.Full
            ? new HopSkipJumpOptions()
            : new HopSkipJumpOptions { Images = 1, QueriesPerImage = 800, InitialEvaluations = 40, MaxEvaluations = 128 };
}
