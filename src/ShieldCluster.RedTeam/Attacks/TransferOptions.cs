using ShieldCluster.RedTeam.Evaluation;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>Examples and radius of <see cref="TransferAttack"/>.</summary>
public sealed record TransferOptions
{
    /// <summary>Adversarial examples sent, each through its own fresh client.</summary>
    public int Examples { get; init; } = 100;

    /// <summary>Linf radius on [0, 1] images.</summary>
    public float Epsilon { get; init; } = 0.2f;

    /// <summary>PGD iterations.</summary>
    public int Steps { get; init; } = 20;

    /// <summary>Goal: at least this share of the examples fool the victim.</summary>
    public double MinFoolingRate { get; init; } = 0.30;

    /// <summary>The knockoff settings used when no substitute was stolen yet.</summary>
    public KnockoffOptions Knockoff { get; init; } = new();

    /// <summary>The budgets for <paramref name="scale"/>.</summary>
    public static TransferOptions For(AttackScale scale) =>
        scale == AttackScale.Full
            ? new TransferOptions()
            : new TransferOptions { Examples = 20, Knockoff = KnockoffOptions.For(AttackScale.Small) };
}
