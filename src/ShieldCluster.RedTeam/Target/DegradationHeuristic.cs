namespace ShieldCluster.RedTeam.Target;

/// <summary>
/// Decides from the scores alone whether an answer was hardened. ShieldCluster keeps the output's
/// name, shape and datatype when it degrades, so the only sign is in the values: label-only mode
/// answers exactly one-hot (one 1 and nine 0s). A row is treated as degraded when it is exactly
/// one-hot.
/// </summary>
/// <remarks>
/// Known limits: rounding or top-k hardening that leaves more than one non-zero score is not seen
/// (it is indistinguishable from a confident honest answer without knowing the model); and a
/// float32 softmax can underflow to an exact one-hot when one logit leads the others by more than
/// about 104, so a baseline server may rarely show "degraded" rows. The baseline rows of the
/// report show how often that happens.
/// </remarks>
public static class DegradationHeuristic
{
    /// <summary>True when <paramref name="scores"/> is exactly one-hot.</summary>
    public static bool IsDegraded(ReadOnlySpan<float> scores)
    {
        var ones = 0;
        foreach (var s in scores)
        {
            if (s == 1f)
            {
                ones++;
            }
            else if (s != 0f)
            {
                return false;
            }
        }

        return ones == 1;
    }
}
