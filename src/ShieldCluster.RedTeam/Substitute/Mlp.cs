using System.Numerics.Tensors;

namespace ShieldCluster.RedTeam.Substitute;

/// <summary>
/// One-hidden-layer perceptron: logits = W2 relu(W1 x + b1) + b2, with hand-written
/// back-propagation (784-256-10 for Fashion-MNIST). Parameters are laid out W1, b1, W2, b2.
/// </summary>
public sealed class Mlp : ISubstituteModel
{
    /// <summary>Creates a zero-initialised network; call <see cref="Initialise"/> before training.</summary>
    public Mlp(int inputs, int hidden, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        Inputs = inputs;
        Hidden = hidden;
        Classes = classes;
        Parameters = new float[(hidden * inputs) + hidden + (classes * hidden) + classes];
    }

    /// <inheritdoc />
    public int Inputs { get; }

    /// <summary>Hidden units.</summary>
    public int Hidden { get; }

    /// <inheritdoc />
    public int Classes { get; }

    /// <inheritdoc />
    public float[] Parameters { get; }

    private int B1 => Hidden * Inputs;

    private int W2 => B1 + Hidden;

    private int B2 => W2 + (Classes * Hidden);

    /// <inheritdoc />
    public void Logits(ReadOnlySpan<float> x, Span<float> logits)
    {
        var h = new float[Hidden];
        HiddenLayer(x, h);
        Output(h, logits);
    }

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> logitGradient, Span<float> parameterGradient, Span<float> inputGradient)
    {
        var p = Parameters.AsSpan();
        var h = new float[Hidden];
        HiddenLayer(x, h);

        // dL/dh = W2^T dL/dlogits, then through the ReLU (h > 0 exactly where the unit was active).
        var dh = new float[Hidden];
        for (var c = 0; c < Classes; c++)
        {
            TensorPrimitives.MultiplyAdd(p.Slice(W2 + (c * Hidden), Hidden), logitGradient[c], dh, dh);
        }

        for (var j = 0; j < Hidden; j++)
        {
            if (h[j] <= 0)
            {
                dh[j] = 0;
            }
        }

        if (!parameterGradient.IsEmpty)
        {
            for (var c = 0; c < Classes; c++)
            {
                var row = parameterGradient.Slice(W2 + (c * Hidden), Hidden);
                TensorPrimitives.MultiplyAdd(h, logitGradient[c], row, row);
                parameterGradient[B2 + c] += logitGradient[c];
            }

            for (var j = 0; j < Hidden; j++)
            {
                if (dh[j] != 0)
                {
                    var row = parameterGradient.Slice(j * Inputs, Inputs);
                    TensorPrimitives.MultiplyAdd(x, dh[j], row, row);
                    parameterGradient[B1 + j] += dh[j];
                }
            }
        }

        if (!inputGradient.IsEmpty)
        {
            inputGradient.Clear();
            for (var j = 0; j < Hidden; j++)
            {
                if (dh[j] != 0)
                {
                    TensorPrimitives.MultiplyAdd(p.Slice(j * Inputs, Inputs), dh[j], inputGradient, inputGradient);
                }
            }
        }
    }

    /// <inheritdoc />
    public void Initialise(Random random)
    {
        // He initialisation for the ReLU layer, Glorot-like for the output layer.
        var s1 = MathF.Sqrt(2f / Inputs);
        for (var i = 0; i < B1; i++)
        {
            Parameters[i] = Gaussian(random) * s1;
        }

        Array.Clear(Parameters, B1, Hidden);
        var s2 = MathF.Sqrt(1f / Hidden);
        for (var i = W2; i < B2; i++)
        {
            Parameters[i] = Gaussian(random) * s2;
        }

        Array.Clear(Parameters, B2, Classes);
    }

    private void HiddenLayer(ReadOnlySpan<float> x, Span<float> h)
    {
        var p = Parameters.AsSpan();
        for (var j = 0; j < Hidden; j++)
        {
            h[j] = MathF.Max(0, TensorPrimitives.Dot(p.Slice(j * Inputs, Inputs), x) + p[B1 + j]);
        }
    }

    private void Output(ReadOnlySpan<float> h, Span<float> logits)
    {
        var p = Parameters.AsSpan();
        for (var c = 0; c < Classes; c++)
        {
            logits[c] = TensorPrimitives.Dot(p.Slice(W2 + (c * Hidden), Hidden), h) + p[B2 + c];
        }
    }

    private static float Gaussian(Random random)
    {
        // Box–Muller.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
