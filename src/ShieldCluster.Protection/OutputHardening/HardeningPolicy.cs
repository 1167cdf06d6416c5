namespace ShieldCluster.Protection.OutputHardening;

/// <summary>
/// Which hardening to apply to a probability vector and its parameters. Only the parameter of the
/// chosen <see cref="Mode"/> is read; <see cref="OutputHardener.Apply"/> checks it.
/// </summary>
/// <param name="Mode">The operation.</param>
/// <param name="Decimals">For <see cref="HardeningMode.Round"/>: decimals kept, 0 to <see cref="OutputHardener.MaxDecimals"/>.</param>
/// <param name="K">For <see cref="HardeningMode.TopK"/>: how many of the largest scores are kept; at least 1.</param>
/// <param name="NoiseScale">For <see cref="HardeningMode.Noise"/>: standard deviation of the Gaussian noise; finite and non-negative.</param>
public sealed record HardeningPolicy(HardeningMode Mode, int Decimals = 2, int K = 1, float NoiseScale = 0.05f)
{
    /// <summary>A policy that leaves the output unchanged.</summary>
    public static HardeningPolicy None { get; } = new(HardeningMode.None);
}
