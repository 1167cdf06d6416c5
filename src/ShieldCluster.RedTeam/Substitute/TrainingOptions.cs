namespace ShieldCluster.RedTeam.Substitute;

/// <summary>Mini-batch Adam settings (Kingma and Ba, 2015, arXiv 1412.6980).</summary>
public sealed record TrainingOptions
{
    /// <summary>Passes over the data.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam's step size.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>L2 weight decay added to the gradient.</summary>
    public float WeightDecay { get; init; } = 1e-4f;
}
