using System.Numerics.Tensors;

namespace ShieldCluster.Protection.OutputHardening;

/// <summary>
/// Deliberately wrong answers for a client judged to be stealing the model: the probability vector
/// becomes the one-hot of a decoy class, a fixed derangement of the true label (the same input
/// always gets the same decoy, so resending or averaging reveals nothing, and the reply has the
/// shape a label-only answer has). Unlike <see cref="OutputHardener"/>, this CHANGES the label: it is
/// opt-in per plan, for traffic beyond the plan's extraction budget only.
/// </summary>
/// <remarks>
/// Natural-data extraction (Knockoff Nets, Copycat CNN) looks like honest traffic in everything but
/// volume, and label-only answers still train a good copy. Returning misinformation to suspected
/// extractors follows Kariyappa and Qureshi, "Defending Against Model Stealing Attacks with Adaptive
/// Misinformation", CVPR 2020 (arXiv 1911.07100), and Orekondy, Schiele and Fritz, "Prediction
/// Poisoning", ICLR 2020 (arXiv 1906.10908): a copy trained on a mix of true and consistently wrong
/// labels learns a model that disagrees with the victim where it matters.
/// </remarks>
public static class Misinformation
{
    /// <summary>The decoy for <paramref name="label"/>: <c>(label + shift) mod classes</c>, never the label itself.</summary>
    public static int Decoy(int label, int classes, int shift)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(shift, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shift, classes);
        return (label + shift) % classes;
    }

    /// <summary>A deployment's shift in [1, classes - 1], derived from its secret so clients cannot predict it.</summary>
    public static int ShiftFor(ReadOnlySpan<byte> secret, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        var mixed = System.IO.Hashing.XxHash3.HashToUInt64(secret);
        return 1 + (int)(mixed % (ulong)(classes - 1));
    }

    /// <summary>Replaces one item's probabilities, in place, with the one-hot of its decoy class.</summary>
    public static void Apply(Span<float> probabilities, int shift)
    {
        if (probabilities.Length < 2)
        {
            return;
        }

        var decoy = Decoy(TensorPrimitives.IndexOfMax(probabilities), probabilities.Length, shift);
        probabilities.Clear();
        probabilities[decoy] = 1f;
    }
}
