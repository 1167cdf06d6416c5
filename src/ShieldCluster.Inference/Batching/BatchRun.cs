using System.Numerics.Tensors;

namespace ShieldCluster.Inference.Batching;

/// <summary>
/// What one model run answered for a batch: each output's rows (items x row length, in order) and,
/// when the batch was squeezed, each item's squeezing score and its squeezed copies' scores.
/// </summary>
public sealed record BatchRun(float[][] Outputs, float[]? Scores = null, float[]? SqueezedScores = null);

/// <summary>Runs <paramref name="items"/> items of <paramref name="input"/> as one model call, squeezed or not.</summary>
public delegate BatchRun BatchRunner(BatchInput input, int items, bool squeeze);

/// <summary>
/// The inputs of the requests in one batch, in order, not yet joined: the runner writes them once,
/// straight into the buffer the model reads (padded, converted to half precision, or in memory the
/// GPU can copy from directly), instead of a joined copy first.
/// </summary>
public sealed class BatchInput
{
    private readonly ReadOnlyMemory<float>[] _parts;

    /// <summary>The parts, in batch order.</summary>
    public BatchInput(params ReadOnlyMemory<float>[] parts)
    {
        _parts = parts;
        foreach (var part in parts)
        {
            Length += part.Length;
        }
    }

    /// <summary>Values in all parts.</summary>
    public int Length { get; }

    /// <summary>The whole input as one block without copying, when it is one part.</summary>
    public bool TryGetSingle(out ReadOnlyMemory<float> single)
    {
        single = _parts.Length == 1 ? _parts[0] : default;
        return _parts.Length == 1;
    }

    /// <summary>Writes the parts one after the other into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<float> destination)
    {
        var offset = 0;
        foreach (var part in _parts)
        {
            part.Span.CopyTo(destination[offset..]);
            offset += part.Length;
        }
    }

    /// <summary>Writes the parts one after the other into <paramref name="destination"/>, as half precision.</summary>
    public void ConvertTo(Span<Half> destination)
    {
        var offset = 0;
        foreach (var part in _parts)
        {
            TensorPrimitives.ConvertToHalf(part.Span, destination.Slice(offset, part.Length));
            offset += part.Length;
        }
    }

    /// <summary>The parts joined into a new array.</summary>
    public float[] ToArray()
    {
        if (TryGetSingle(out var single))
        {
            return single.ToArray();
        }

        var joined = new float[Length];
        CopyTo(joined);
        return joined;
    }
}
