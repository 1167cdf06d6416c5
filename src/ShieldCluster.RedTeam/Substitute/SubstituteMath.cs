using System.Numerics.Tensors;

namespace ShieldCluster.RedTeam.Substitute;

/// <summary>Softmax, cross-entropy and prediction helpers shared by the substitutes and attacks.</summary>
public static class SubstituteMath
{
    /// <summary>Numerically stable softmax of <paramref name="logits"/> into <paramref name="probabilities"/>.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities) =>
        TensorPrimitives.SoftMax(Shifted(logits, probabilities), probabilities);

    /// <summary>
    /// Cross-entropy of softmax(<paramref name="logits"/>) against the probability vector
    /// <paramref name="target"/>, and its gradient with respect to the logits (softmax − target,
    /// scaled by the target's total mass) into <paramref name="logitGradient"/>.
    /// </summary>
    public static float CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> target, Span<float> logitGradient)
    {
        var max = TensorPrimitives.Max(logits);
        double sum = 0;
        foreach (var l in logits)
        {
            sum += Math.Exp(l - max);
        }

        var logSum = (float)Math.Log(sum) + max;
        double loss = 0;
        float mass = 0;
        for (var c = 0; c < logits.Length; c++)
        {
            mass += target[c];
            if (target[c] > 0)
            {
                loss -= target[c] * (logits[c] - logSum);
            }
        }

        for (var c = 0; c < logits.Length; c++)
        {
            logitGradient[c] = (mass * MathF.Exp(logits[c] - logSum)) - target[c];
        }

        return (float)loss;
    }

    /// <summary>The substitute's probabilities for <paramref name="x"/>.</summary>
    public static float[] Predict(ISubstituteModel model, ReadOnlySpan<float> x)
    {
        var logits = new float[model.Classes];
        model.Logits(x, logits);
        var p = new float[model.Classes];
        Softmax(logits, p);
        return p;
    }

    /// <summary>The substitute's arg-max class for <paramref name="x"/>.</summary>
    public static int Classify(ISubstituteModel model, ReadOnlySpan<float> x)
    {
        Span<float> logits = stackalloc float[model.Classes];
        model.Logits(x, logits);
        return TensorPrimitives.IndexOfMax(logits);
    }

    /// <summary>
    /// Gradient of the cross-entropy loss for class <paramref name="label"/> with respect to the
    /// input: the direction FGSM and PGD ascend.
    /// </summary>
    public static float LossInputGradient(ISubstituteModel model, ReadOnlySpan<float> x, int label, Span<float> inputGradient)
    {
        Span<float> logits = stackalloc float[model.Classes];
        Span<float> target = stackalloc float[model.Classes];
        Span<float> dLogits = stackalloc float[model.Classes];
        model.Logits(x, logits);
        target.Clear();
        target[label] = 1;
        var loss = CrossEntropy(logits, target, dLogits);
        model.Backward(x, dLogits, [], inputGradient);
        return loss;
    }

    /// <summary>
    /// Gradient of the probability the model gives class <paramref name="label"/> with respect to
    /// the input (one row of the Jacobian of the softmax output), as Papernot et al.'s
    /// augmentation uses.
    /// </summary>
    public static void ProbabilityInputGradient(ISubstituteModel model, ReadOnlySpan<float> x, int label, Span<float> inputGradient)
    {
        Span<float> logits = stackalloc float[model.Classes];
        Span<float> p = stackalloc float[model.Classes];
        Span<float> dLogits = stackalloc float[model.Classes];
        model.Logits(x, logits);
        Softmax(logits, p);

        // d p_y / d z_c = p_y (1[c = y] − p_c).
        for (var c = 0; c < p.Length; c++)
        {
            dLogits[c] = p[label] * ((c == label ? 1 : 0) - p[c]);
        }

        model.Backward(x, dLogits, [], inputGradient);
    }

    /// <summary>Share of <paramref name="images"/> the model puts in <paramref name="labels"/>' classes.</summary>
    public static double Accuracy(ISubstituteModel model, ReadOnlySpan<float> images, IReadOnlyList<int> labels)
    {
        if (labels.Count == 0)
        {
            return 0;
        }

        var hits = 0;
        for (var i = 0; i < labels.Count; i++)
        {
            if (Classify(model, images.Slice(i * model.Inputs, model.Inputs)) == labels[i])
            {
                hits++;
            }
        }

        return (double)hits / labels.Count;
    }

    private static ReadOnlySpan<float> Shifted(ReadOnlySpan<float> logits, Span<float> scratch)
    {
        TensorPrimitives.Subtract(logits, TensorPrimitives.Max(logits), scratch);
        return scratch;
    }
}
