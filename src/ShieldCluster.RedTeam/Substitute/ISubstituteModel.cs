namespace ShieldCluster.RedTeam.Substitute;

/// <summary>
/// A differentiable classifier the attacker owns: the stolen copy, and the source of input
/// gradients for transfer attacks and Jacobian-based augmentation. All parameters live in one
/// flat vector so one optimiser serves every architecture.
/// </summary>
public interface ISubstituteModel
{
    /// <summary>Input values per example.</summary>
    int Inputs { get; }

    /// <summary>Number of classes.</summary>
    int Classes { get; }

    /// <summary>Every trainable parameter, flat.</summary>
    float[] Parameters { get; }

    /// <summary>Writes the logits of <paramref name="x"/>.</summary>
    void Logits(ReadOnlySpan<float> x, Span<float> logits);

    /// <summary>
    /// Back-propagates <paramref name="logitGradient"/> (dL/dlogits) for input <paramref name="x"/>:
    /// adds dL/dparameters into <paramref name="parameterGradient"/> when it is not empty, and writes
    /// dL/dx into <paramref name="inputGradient"/> when it is not empty.
    /// </summary>
    void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> logitGradient, Span<float> parameterGradient, Span<float> inputGradient);

    /// <summary>Initialises the parameters from <paramref name="random"/>.</summary>
    void Initialise(Random random);
}
