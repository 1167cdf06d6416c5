namespace ShieldCluster.RedTeam.Evaluation;

/// <summary>How many queries each attack may spend.</summary>
public enum AttackScale
{
    /// <summary>A few hundred queries per attack: fit for CI against a local server.</summary>
    Small,

    /// <summary>The budgets of the evaluation plan (thousands of queries per attack).</summary>
    Full,
}
