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
    /// <summary>Values below which a write stays on the calling thread whatever the thread count.</summary>
    public const int ParallelMinimum = 1 << 20;

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
    public void CopyTo(Span<float> destination) => CopyTo(destination, 1);

    /// <summary>
    /// Writes the parts one after the other into <paramref name="destination"/>, on up to
    /// <paramref name="threads"/> threads when there are several parts and at least
    /// <see cref="ParallelMinimum"/> values (each thread a contiguous run of parts).
    /// </summary>
    public unsafe void CopyTo(Span<float> destination, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Length, nameof(destination));
        if (!Parallel(threads))
        {
            var offset = 0;
            foreach (var part in _parts)
            {
                part.Span.CopyTo(destination[offset..]);
                offset += part.Length;
            }

            return;
        }

        fixed (float* target = destination)
        {
            var address = (nint)target;
            ForEachGroup(threads, (part, offset) => part.Span.CopyTo(new Span<float>((float*)address + offset, part.Length)));
        }
    }

    /// <summary>Writes the parts one after the other into <paramref name="destination"/>, as half precision.</summary>
    public void ConvertTo(Span<Half> destination) => ConvertTo(destination, 1);

    /// <summary>As <see cref="CopyTo(Span{float}, int)"/>, converting to half precision.</summary>
    public unsafe void ConvertTo(Span<Half> destination, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Length, nameof(destination));
        if (!Parallel(threads))
        {
            var offset = 0;
            foreach (var part in _parts)
            {
                TensorPrimitives.ConvertToHalf(part.Span, destination.Slice(offset, part.Length));
                offset += part.Length;
            }

            return;
        }

        fixed (Half* target = destination)
        {
            var address = (nint)target;
            ForEachGroup(threads, (part, offset) => TensorPrimitives.ConvertToHalf(part.Span, new Span<Half>((Half*)address + offset, part.Length)));
        }
    }

    private bool Parallel(int threads) => threads > 1 && _parts.Length > 1 && Length >= ParallelMinimum;

    /// <summary>Calls <paramref name="write"/> for every part with its offset, the parts split into up to <paramref name="threads"/> contiguous groups run in parallel.</summary>
    private void ForEachGroup(int threads, Action<ReadOnlyMemory<float>, int> write)
    {
        var offsets = new int[_parts.Length];
        for (int i = 1; i < _parts.Length; i++)
        {
            offsets[i] = offsets[i - 1] + _parts[i - 1].Length;
        }

        var groups = Math.Min(threads, _parts.Length);
        System.Threading.Tasks.Parallel.For(0, groups, new ParallelOptions { MaxDegreeOfParallelism = groups }, group =>
        {
            var end = (int)((long)_parts.Length * (group + 1) / groups);
            for (var i = (int)((long)_parts.Length * group / groups); i < end; i++)
            {
                write(_parts[i], offsets[i]);
            }
        });
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
