using System.Numerics.Tensors;
using ShieldCluster.Protection.Numerics;

namespace ShieldCluster.Inference.Batching;

/// <summary>
/// What one model run answered for a batch: each output's rows (items x row length, in order) and,
/// when the batch was squeezed, each item's squeezing score and its squeezed copies' scores.
/// </summary>
public sealed record BatchRun(float[][] Outputs, float[]? Scores = null, float[]? SqueezedScores = null);

/// <summary>
/// Runs <paramref name="items"/> items of <paramref name="input"/> as one model call, the first
/// <paramref name="squeezed"/> of them (whole requests) with their squeezed copies in the same call:
/// each output's rows for every item, and scores for those first items (none when the model cannot
/// squeeze).
/// </summary>
public delegate BatchRun BatchRunner(BatchInput input, int items, int squeezed);

/// <summary>
/// The inputs of the requests in one batch, in order, not yet joined: the runner writes them once,
/// straight into the buffer the model reads (padded, converted to half precision, or in memory the
/// GPU can copy from directly), instead of a joined copy first. A part's values may be in half
/// precision instead (an FP16 tensor as it came on the wire, its FP32 part empty): an fp16 model's
/// batch copies them as they are, and only a reader of FP32 values widens them.
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
    /// The parts, in batch order, each either in FP32 (<paramref name="parts"/>) or, where its FP32
    /// entry is empty, in half precision (<paramref name="halves"/>).
    /// </summary>
    public BatchInput(ReadOnlyMemory<float>[] parts, ReadOnlyMemory<Half>[]? halves)
    {
        if (halves is not null && halves.Length != parts.Length)
        {
            throw new ArgumentException($"{halves.Length} half-precision parts for {parts.Length} parts", nameof(halves));
        }

        _parts = parts;
        _halves = halves;
        for (var i = 0; i < parts.Length; i++)
        {
            if (!parts[i].IsEmpty && halves is not null && !halves[i].IsEmpty)
            {
                throw new ArgumentException($"part {i} has values in both precisions; give one", nameof(halves));
            }

            Length += PartLength(i);
        }
    }

    /// <summary>Values in all parts.</summary>
    public int Length { get; }

    /// <summary>The whole input as one FP32 block without copying, when it is one part in FP32.</summary>
    public bool TryGetSingle(out ReadOnlyMemory<float> single)
    {
        var one = _parts.Length == 1 && !IsHalf(0);
        single = one ? _parts[0] : default;
        return one;
    }

    /// <summary>The first parts, holding <paramref name="values"/> values (a part boundary), and the rest.</summary>
    internal (BatchInput Head, BatchInput Tail) Split(int values)
    {
        var offset = 0;
        var parts = 0;
        while (offset < values && parts < _parts.Length)
        {
            offset += PartLength(parts++);
        }

        if (offset != values)
        {
            throw new ArgumentException($"{values} values end inside a part or past the input's {Length}", nameof(values));
        }

        return (new BatchInput(_parts[..parts], _halves?[..parts]), new BatchInput(_parts[parts..], _halves?[parts..]));
    }

    /// <summary>This input with <paramref name="first"/> (FP32) before its parts.</summary>
    internal BatchInput Prepend(ReadOnlyMemory<float> first) =>
        new([first, .. _parts], _halves is null ? null : [ReadOnlyMemory<Half>.Empty, .. _halves]);

    /// <summary>Writes the parts one after the other into <paramref name="destination"/> (half-precision parts widened).</summary>
    public void CopyTo(Span<float> destination)
    {
        var offset = 0;
        for (var i = 0; i < _parts.Length; i++)
        {
            var target = destination.Slice(offset, PartLength(i));
            if (IsHalf(i))
            {
                HalfWidening.Widen(_halves![i].Span, target);
            }
            else
            {
                _parts[i].Span.CopyTo(target);
            }

            offset += target.Length;
        }
    }

    /// <summary>
    /// Writes the parts one after the other into <paramref name="destination"/>, as half precision:
    /// a half-precision part as it is, an FP32 part converted.
    /// </summary>
    public void ConvertTo(Span<Half> destination)
    {
        var offset = 0;
        for (var i = 0; i < _parts.Length; i++)
        {
            var target = destination.Slice(offset, PartLength(i));
            if (IsHalf(i))
            {
                _halves![i].Span.CopyTo(target);
            }
            else
            {
                TensorPrimitives.ConvertToHalf(_parts[i].Span, target);
            }

            offset += target.Length;
        }
    }

    private bool IsHalf(int part) => _parts[part].IsEmpty && _halves is not null && !_halves[part].IsEmpty;

    private int PartLength(int part) => IsHalf(part) ? _halves![part].Length : _parts[part].Length;

    /// <summary>The parts joined into a new FP32 array (half-precision parts widened).</summary>
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
