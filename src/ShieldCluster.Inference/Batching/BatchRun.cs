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
/// GPU can copy from directly), instead of a joined copy first. A part may come with its values in
/// half precision as well (an FP16 tensor as it came on the wire): an fp16 model's batch copies
/// those instead of converting the part.
/// </summary>
public sealed class BatchInput
{
    private readonly ReadOnlyMemory<float>[] _parts;
    private readonly ReadOnlyMemory<Half>[]? _halves;

    /// <summary>The parts, in batch order.</summary>
    public BatchInput(params ReadOnlyMemory<float>[] parts)
        : this(parts, null)
    {
    }

    /// <summary>
    /// The parts, in batch order, with the same values in half precision where <paramref name="halves"/>
    /// has them (an entry of the parts' length; an empty one: convert that part).
    /// </summary>
    public BatchInput(ReadOnlyMemory<float>[] parts, ReadOnlyMemory<Half>[]? halves)
    {
        if (halves is not null && halves.Length != parts.Length)
        {
            throw new ArgumentException($"{halves.Length} half-precision parts for {parts.Length} parts", nameof(halves));
        }

        _parts = parts;
        _halves = halves;
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

    /// <summary>
    /// Writes the parts one after the other into <paramref name="destination"/>, as half precision:
    /// a part's half-precision values where it has them (the same bits as converting it: they are
    /// what its values were widened from), else the part converted.
    /// </summary>
    public void ConvertTo(Span<Half> destination)
    {
        var offset = 0;
        for (var i = 0; i < _parts.Length; i++)
        {
            var part = _parts[i];
            var target = destination.Slice(offset, part.Length);
            if (_halves is not null && _halves[i].Length == part.Length)
            {
                _halves[i].Span.CopyTo(target);
            }
            else
            {
                TensorPrimitives.ConvertToHalf(part.Span, target);
            }

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
