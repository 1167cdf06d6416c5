namespace ShieldCluster.Protection.OutputHardening;

/// <summary>
/// How much of a model's probability vector a client gets to see. Modes are listed from the most to the
/// least informative; a server moves down the list as a client's risk rises. Every mode keeps the
/// predicted label (the argmax, ties to the lowest index).
/// </summary>
/// <remarks>
/// The modes follow the postprocessors of the Adversarial Robustness Toolbox
/// (<c>art/defences/postprocessor</c>: <c>Rounded</c>, <c>ClassLabels</c>, <c>GaussianNoise</c>) and the
/// countermeasures studied by Shokri et al., "Membership Inference Attacks Against Machine Learning
/// Models", IEEE S&amp;P 2017 (top-k, coarser precision) and Fredrikson et al., "Model Inversion Attacks
/// that Exploit Confidence Information and Basic Countermeasures", CCS 2015 (rounded confidences).
/// </remarks>
public enum HardeningMode
{
    /// <summary>The probabilities pass unchanged.</summary>
    None = 0,

    /// <summary>Each probability is rounded to a fixed number of decimals.</summary>
    Round = 1,

    /// <summary>Only the k largest probabilities are kept; the rest become 0.</summary>
    TopK = 2,

    /// <summary>Only the label is returned, as a one-hot vector.</summary>
    LabelOnly = 3,

    /// <summary>Gaussian noise is added and the vector renormalised to sum 1.</summary>
    Noise = 4,
}
