using System.Numerics.Tensors;

namespace ShieldCluster.RedTeam.Substitute;

/// <summary>
/// Multinomial logistic regression: logits = W x + b. Papernot et al. (2017) show even this
/// simple substitute transfers adversarial examples to deep victims.
/// </summary>
public sealed class SoftmaxRegression : ISubstituteModel
{
    /// <summary>Creates a zero-initialised model.</summary>
    public SoftmaxRegression(int inputs, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        Inputs = inputs;
        Classes = classes;
        Parameters = new float[(classes * inputs) + classes];
    }

    /// <inheritdoc />
    public int Inputs { get; }

    /// <inheritdoc />
    public int Classes { get; }

    /// <inheritdoc />
    public float[] Parameters { get; }

    private int BiasOffset => Classes * Inputs;

    /// <inheritdoc />
    public void Logits(ReadOnlySpan<float> x, Span<float> logits)
    {
        var p = Parameters.AsSpan();
        for (var c = 0; c < Classes; c++)
        {
            logits[c] = TensorPrimitives.Dot(p.Slice(c * Inputs, Inputs), x) + p[BiasOffset + c];
        }
    }

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> logitGradient, Span<float> parameterGradient, Span<float> inputGradient)
    {
        var p = Parameters.AsSpan();
        if (!parameterGradient.IsEmpty)
        {
            for (var c = 0; c < Classes; c++)
            {
                var row = parameterGradient.Slice(c * Inputs, Inputs);
                TensorPrimitives.MultiplyAdd(x, logitGradient[c], row, row);
                parameterGradient[BiasOffset + c] += logitGradient[c];
            }
        }

        if (!inputGradient.IsEmpty)
        {
            inputGradient.Clear();
            for (var c = 0; c < Classes; c++)
            {
                TensorPrimitives.MultiplyAdd(p.Slice(c * Inputs, Inputs), logitGradient[c], inputGradient, inputGradient);
            }
        }
    }

    /// <inheritdoc />
    public void Initialise(Random random)
    {
        var scale = 0.01f;
        for (var i = 0; i < BiasOffset; i++)
        {
            Parameters[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        }

        Array.Clear(Parameters, BiasOffset, Classes);
    }
}
