namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>A progress update of one step (an attack on a target, or the honest clients).</summary>
/// <param name="Key">Identifies the step, e.g. <c>simba@protected</c>.</param>
/// <param name="Fraction">Done share in [0, 1].</param>
/// <param name="Finished">True on the step's last update.</param>
/// <param name="Summary">On the last update, one line on the outcome.</param>
public sealed record EvaluationProgress(string Key, double Fraction, bool Finished, string? Summary = null);
