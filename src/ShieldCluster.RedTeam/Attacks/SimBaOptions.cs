using ShieldCluster.RedTeam.Evaluation;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>Budgets and step of <see cref="SimBaAttack"/>.</summary>
public sealed record SimBaOptions
{
    /// <summary>Images attacked, one after another, by the same client.</summary>
    public int Images { get; init; } = 3;

    /// <summary>Queries per image (choosing the starting images is extra).</summary>
    public int QueriesPerImage { get; init; } = 2000;

    /// <summary>Step along each pixel direction, on [0, 1] images.</summary>
    public float Epsilon { get; init; } = 0.2f;

    /// <summary>Goal: misclassified within this L2 distance of the original.</summary>
    public float MaxL2 { get; init; } = 4.0f;

    /// <summary>The budgets for <paramref name="scale"/>.</summary>
    public static SimBaOptions For(AttackScale scale) =>
        scale == AttackScale.Full ? new SimBaOptions() : new SimBaOptions { Images = 1, QueriesPerImage = 600 };
}
