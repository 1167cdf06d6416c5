using ShieldCluster.RedTeam.Evaluation;
using ShieldCluster.RedTeam.Substitute;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>Budget and substitute of <see cref="KnockoffAttack"/>.</summary>
public sealed record KnockoffOptions
{
    /// <summary>Natural training images queried.</summary>
    public int Queries { get; init; } = 10_000;

    /// <summary>Images per request.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Hidden units of the MLP substitute.</summary>
    public int Hidden { get; init; } = 256;

    /// <summary>Training of the substitute.</summary>
    public TrainingOptions Training { get; init; } = new() { Epochs = 12, LearningRate = 1e-3f };

    /// <summary>Goal: substitute accuracy on the 10,000 test images at least this.</summary>
    public double MinAccuracy { get; init; } = 0.80;

    /// <summary>The budgets for <paramref name="scale"/>.</summary>
    public static KnockoffOptions For(AttackScale scale) =>
        scale == AttackScale.Full
            ? new KnockoffOptions()
            : new KnockoffOptions { Queries = 640, Training = new TrainingOptions { Epochs = 30, LearningRate = 1e-3f }, MinAccuracy = 0.65 };
}
