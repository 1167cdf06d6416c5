namespace ShieldCluster.Protection.InputFilters;

/// <summary>
/// A feature squeezer: maps one input item to a simplified copy of the same length. Callers write
/// <c>[original, squeezed1, squeezed2, ...]</c> for each item into one batch (see
/// <see cref="FeatureSqueezingDetector.WriteBatch"/>), run the model once, and compare the outputs with
/// <see cref="FeatureSqueezingDetector.Score"/>.
/// </summary>
/// <remarks>
/// Xu, Evans and Qi, "Feature Squeezing: Detecting Adversarial Examples in Deep Neural Networks",
/// NDSS 2018, arXiv 1704.01155.
/// </remarks>
public interface ISqueezer
{
    /// <summary>A short invariant name for logs and metrics, e.g. <c>bit-depth-1</c>.</summary>
    string Name { get; }

    /// <summary>Writes the squeezed copy of <paramref name="item"/> into <paramref name="destination"/>.</summary>
    /// <param name="item">One input item, flattened row-major.</param>
    /// <param name="destination">Where the squeezed copy goes; the same length as <paramref name="item"/>.</param>
    void Squeeze(ReadOnlySpan<float> item, Span<float> destination);
}
