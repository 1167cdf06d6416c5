using ShieldCluster.RedTeam.Evaluation;

namespace ShieldCluster.RedTeam.Attacks;

/// <summary>One attack from the literature, run through the target's API.</summary>
public interface IAttack
{
    /// <summary>Short name used on the command line and in reports.</summary>
    string Name { get; }

    /// <summary>Runs the attack with fresh clients from <paramref name="context"/>.</summary>
    Task<AttackResult> RunAsync(AttackContext context, CancellationToken cancellationToken);
}
