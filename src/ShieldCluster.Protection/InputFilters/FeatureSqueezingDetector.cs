using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;

namespace ShieldCluster.Protection.InputFilters;

/// <summary>
/// Feature-squeezing detection of adversarial inputs: the model runs on an item and on squeezed copies
/// of it; an item whose prediction moves far when squeezed is flagged.
/// </summary>
/// <remarks>
/// <para>
/// Xu, Evans and Qi, "Feature Squeezing: Detecting Adversarial Examples in Deep Neural Networks",
/// NDSS 2018, arXiv 1704.01155. The score of an item is the largest L1 distance between the softmax
/// output on the original and on any squeezed copy (section V.A, "joint detection"); it lies in [0, 2].
/// The threshold is calibrated on benign inputs for a target false-positive rate (the paper uses 5%).
/// </para>
/// <para>
/// Usage: <see cref="WriteBatch"/> lays out <c>[original, squeezed1, squeezed2, ...]</c> for an item so
/// that one model call covers all copies; the first <c>classes</c> outputs are then the original's and
/// the rest the squeezed copies', which <see cref="Score"/> takes as they are.
/// </para>
/// </remarks>
public static class FeatureSqueezingDetector
{
    // Scratch buffers up to this many floats live on the stack; larger ones are rented.
    private const int StackLimit = 256;

    /// <summary>
    /// Writes <paramref name="item"/> followed by its squeezed copies, one per squeezer in order, into
    /// <paramref name="destination"/>, which must hold <c>item.Length × (1 + squeezers.Count)</c> values.
    /// </summary>
    public static void WriteBatch(ReadOnlySpan<float> item, IReadOnlyList<ISqueezer> squeezers, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(squeezers);
        var expected = (long)item.Length * (1 + squeezers.Count);
        if (destination.Length != expected)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"destination has {destination.Length} values; the batch needs {expected}"), nameof(destination));
        }

        item.CopyTo(destination);
        for (var s = 0; s < squeezers.Count; s++)
        {
            squeezers[s].Squeeze(item, destination.Slice((s + 1) * item.Length, item.Length));
        }
    }

    /// <summary>
    /// The detection score: the maximum, over the squeezed copies, of the L1 distance
    /// <c>Σ |original[i] − squeezed[i]|</c> between the original's probabilities and the copy's.
    /// </summary>
    /// <param name="original">The model's probabilities for the original item; <paramref name="classes"/> values.</param>
    /// <param name="squeezedOutputs">The probabilities of each squeezed copy, concatenated; a positive multiple of <paramref name="classes"/> values.</param>
    /// <param name="classes">Classes per output vector; at least 1.</param>
    /// <returns>The score; a NaN distance scores as +∞ so that a broken output is flagged rather than passed.</returns>
    public static float Score(ReadOnlySpan<float> original, ReadOnlySpan<float> squeezedOutputs, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (original.Length != classes)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"original output has {original.Length} values; expected {classes}"), nameof(original));
        }

        if (squeezedOutputs.IsEmpty || squeezedOutputs.Length % classes != 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"squeezed outputs have {squeezedOutputs.Length} values; expected a positive multiple of {classes}"),
                nameof(squeezedOutputs));
        }

        float[]? rented = null;
        var difference = classes <= StackLimit ? stackalloc float[classes] : (rented = ArrayPool<float>.Shared.Rent(classes)).AsSpan(0, classes);
        try
        {
            var score = 0f;
            for (var offset = 0; offset < squeezedOutputs.Length; offset += classes)
            {
                TensorPrimitives.Subtract(original, squeezedOutputs.Slice(offset, classes), difference);
                var distance = TensorPrimitives.SumOfMagnitudes(difference);
                if (float.IsNaN(distance))
                {
                    return float.PositiveInfinity;
                }

                score = MathF.Max(score, distance);
            }

            return score;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The threshold at which at most <paramref name="falsePositiveRate"/> of the benign scores lie
    /// strictly above it.
    /// </summary>
    /// <param name="benignScores">Scores of benign inputs; at least one, none NaN.</param>
    /// <param name="falsePositiveRate">Target false-positive rate, strictly between 0 and 1.</param>
    /// <remarks>
    /// Rule: sort the <c>n</c> scores ascending as <c>s[0] ≤ … ≤ s[n−1]</c>; let
    /// <c>m = min(⌊rate × n⌋, n − 1)</c>, the number of scores allowed above; the threshold is
    /// <c>s[n − 1 − m]</c>. At most <c>m</c> scores exceed it (fewer when scores tie at the threshold).
    /// The floor is taken with a 1e-9 tolerance, so a rate of 0.29 over 100 scores allows 29 even though
    /// 0.29 × 100 is 28.999999999999996 in binary. With the scores 0.01, 0.02, …, 1.00 and rate 0.05 the
    /// threshold is 0.95 and exactly five scores lie above it.
    /// </remarks>
    public static float CalibrateThreshold(IReadOnlyList<float> benignScores, double falsePositiveRate)
    {
        ArgumentNullException.ThrowIfNull(benignScores);
        if (!(falsePositiveRate > 0.0 && falsePositiveRate < 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(falsePositiveRate), falsePositiveRate, "the false-positive rate must lie strictly between 0 and 1");
        }

        var n = benignScores.Count;
        if (n == 0)
        {
            throw new ArgumentException("at least one benign score is needed", nameof(benignScores));
        }

        var sorted = new float[n];
        for (var i = 0; i < n; i++)
        {
            sorted[i] = benignScores[i];
            if (float.IsNaN(sorted[i]))
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"benign score at index {i} is NaN"), nameof(benignScores));
            }
        }

        Array.Sort(sorted);
        var allowedAbove = Math.Min((int)Math.Floor((falsePositiveRate * n) + 1e-9), n - 1);
        return sorted[n - 1 - allowedAbove];
    }

    /// <summary>Whether an item is flagged: its score lies strictly above the threshold.</summary>
    public static bool IsAdversarial(float score, float threshold) => score > threshold;
}
