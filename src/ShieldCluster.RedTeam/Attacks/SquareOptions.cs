using ShieldCluster.RedTeam.Evaluation;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>Budgets and radius of <see cref="SquareAttack"/>.</summary>
public sealed record SquareOptions
{
    /// <summary>Images attacked, one after another, by the same client.</summary>
    public int Images { get; init; } = 3;

    /// <summary>Queries per image.</summary>
    public int QueriesPerImage { get; init; } = 1000;

    /// <summary>Linf radius on [0, 1] images.</summary>
    public float Epsilon { get; init; } = 0.1f;

    /// <summary>Initial share of pixels a square covers (p in the paper).</summary>
    public float InitialFraction { get; init; } = 0.3f;

    /// <summary>The budgets for <paramref name="scale"/>.</summary>
    public static SquareOptions For(AttackScale scale) =>
        scale == AttackScale.Full ? new SquareOptions() : new SquareOptions { Images = 1, QueriesPerImage = 400 };
}
