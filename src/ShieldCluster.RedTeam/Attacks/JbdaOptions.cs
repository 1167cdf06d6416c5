using ShieldCluster.RedTeam.Evaluation;
using ShieldCluster.RedTeam.Substitute;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>Seed set, rounds and step of <see cref="JbdaAttack"/>.</summary>
public sealed record JbdaOptions
{
    /// <summary>Initial natural images (balanced over the true classes as far as the draw allows).</summary>
    public int SeedImages { get; init; } = 150;

    /// <summary>Augmentation rounds; the set doubles each round.</summary>
    public int Rounds { get; init; } = 6;

    /// <summary>Augmentation step λ.</summary>
    public float Lambda { get; init; } = 0.1f;

    /// <summary>λ changes sign every this many rounds (Papernot et al.'s periodic step).</summary>
    public int SignPeriod { get; init; } = 3;

    /// <summary>Training of the substitute (softmax regression) each round.</summary>
    public TrainingOptions Training { get; init; } = new() { Epochs = 30, BatchSize = 32, LearningRate = 1e-2f };

    /// <summary>Goal: substitute accuracy on the test images at least this.</summary>
    public double MinAccuracy { get; init; } = 0.60;

    /// <summary>The budgets for <paramref name="scale"/>.</summary>
    public static JbdaOptions For(AttackScale scale) =>
        scale == AttackScale.Full ? new JbdaOptions() : new JbdaOptions { SeedImages = 60, Rounds = 3, MinAccuracy = 0.50 };
}
