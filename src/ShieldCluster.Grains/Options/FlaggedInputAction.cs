namespace ShieldCluster.Grains.Options;

/// <summary>What happens to an input that feature squeezing flags.</summary>
public enum FlaggedInputAction
{
    /// <summary>It is answered as usual and counts as evidence against the client.</summary>
    Record = 0,

    /// <summary>
    /// It is answered with its squeezed copy's scores (which undo much of an adversarial
    /// perturbation) and counts as evidence. Costs honest clients a little accuracy: on the demo model
    /// 92.39% -> 92.01% on the test images, the label changing for 1.36% of them.
    /// </summary>
    Substitute = 1,
}
