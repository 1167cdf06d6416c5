using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace ShieldCluster.Protection.Validation;

/// <summary>
/// Checks a request's tensor against the model's declaration: datatype, shape, batch size, value
/// count, finiteness and declared value range. Returns the first problem as a message fit for the
/// client, or <see langword="null"/> when the tensor is acceptable.
/// </summary>
public static class TensorValidator
{
    /// <summary>Validates one input tensor whose values came as FP32 (or were parsed from JSON numbers).</summary>
    /// <param name="spec">The model's declaration of this input.</param>
    /// <param name="maxBatchSize">The model's <c>max_batch_size</c>; 0 means the model takes no batch dimension.</param>
    /// <param name="datatype">The datatype the request declared.</param>
    /// <param name="shape">The shape the request declared.</param>
    /// <param name="data">The values the request sent, flattened row-major.</param>
    /// <param name="batchSize">The batch size (1 for an unbatched model) when valid.</param>
    public static string? Validate(TensorSpec spec, int maxBatchSize, string datatype, ReadOnlySpan<long> shape, ReadOnlySpan<float> data, out int batchSize)
    {
        var error = CheckShape(spec, maxBatchSize, datatype, shape, data.Length, out batchSize) ?? CheckValues(spec, data);
        batchSize = error is null ? batchSize : 0;
        return error;
    }

    /// <summary>
    /// Validates one input tensor whose values came as FP16, as they came: the same checks and the
    /// same messages as for their FP32 widening, without widening them.
    /// </summary>
    public static string? Validate(TensorSpec spec, int maxBatchSize, string datatype, ReadOnlySpan<long> shape, ReadOnlySpan<Half> data, out int batchSize)
    {
        var error = CheckShape(spec, maxBatchSize, datatype, shape, data.Length, out batchSize) ?? CheckValues(spec, data);
        batchSize = error is null ? batchSize : 0;
        return error;
    }

    /// <summary>Checks the datatype, the shape, the batch size and the value count; sets the batch size when they are valid.</summary>
    private static string? CheckShape(TensorSpec spec, int maxBatchSize, string datatype, ReadOnlySpan<long> shape, int count, out int batchSize)
    {
        batchSize = 0;
        if (!string.Equals(datatype, spec.Datatype, StringComparison.Ordinal))
        {
            return $"input '{spec.Name}' has datatype {datatype}; the model expects {spec.Datatype}";
        }

        var batched = maxBatchSize > 0;
        var expectedRank = spec.ItemDims.Count + (batched ? 1 : 0);
        if (shape.Length != expectedRank || !ItemDimsMatch(spec, shape[(batched ? 1 : 0)..]))
        {
            return $"input '{spec.Name}' has shape {Format(shape)}; the model expects {Format(spec.ProtocolShape(batched))}";
        }

        if (batched)
        {
            if (shape[0] < 1)
            {
                return $"input '{spec.Name}' has batch size {shape[0]}; it must be at least 1";
            }

            if (shape[0] > maxBatchSize)
            {
                return $"batch size {shape[0]} exceeds the model's max_batch_size {maxBatchSize}";
            }
        }

        var items = batched ? shape[0] : 1;
        var expected = items * spec.ItemLength;
        if (count != expected)
        {
            return $"input '{spec.Name}' has {count} values; shape {Format(shape)} needs {expected}";
        }

        batchSize = (int)items;
        return null;
    }

    /// <summary>Checks that every value is finite and, where the spec declares a range, inside it.</summary>
    public static string? CheckValues(TensorSpec spec, ReadOnlySpan<float> data)
    {
        if (data.IsEmpty)
        {
            return null;
        }

        // One vectorised pass tests every value against the bounds; the slow scan that names the
        // index runs only on failure. NaN fails every comparison.
        var (low, high) = FiniteBounds(spec);
        if (AllWithin(data, low, high))
        {
            return null;
        }

        for (var i = 0; i < data.Length; i++)
        {
            if (Describe(spec, data[i], i) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>
    /// Checks FP16 values as they came, the same as <see cref="CheckValues(TensorSpec, ReadOnlySpan{float})"/>
    /// on their widening: one vectorised pass compares their bits, mapped to integers in the values'
    /// order, with the first and last FP16 values inside the range; the scan that names the index
    /// runs only on failure.
    /// </summary>
    public static string? CheckValues(TensorSpec spec, ReadOnlySpan<Half> data)
    {
        if (data.IsEmpty)
        {
            return null;
        }

        var (low, high) = FiniteBounds(spec);
        if (HalfRange(low, high) is var (first, last) && AllWithin(MemoryMarshal.Cast<Half, short>(data), first, last))
        {
            return null;
        }

        for (var i = 0; i < data.Length; i++)
        {
            if (Describe(spec, (float)data[i], i) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>
    /// The spec's range with missing or infinite ends replaced by the largest finite values: finite
    /// bounds make a range test refuse infinities too.
    /// </summary>
    private static (float Low, float High) FiniteBounds(TensorSpec spec) => (
        spec.Min is { } min ? Math.Max(min, float.MinValue) : float.MinValue,
        spec.Max is { } max ? Math.Min(max, float.MaxValue) : float.MaxValue);

    /// <summary>The problem with value <paramref name="v"/> at <paramref name="index"/>, or null when it is acceptable.</summary>
    private static string? Describe(TensorSpec spec, float v, int index)
    {
        if (!float.IsFinite(v))
        {
            return $"input '{spec.Name}' contains NaN or infinity at index {index}";
        }

        if (v < spec.Min || v > spec.Max)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"input '{spec.Name}' value {v} at index {index} is outside the model's range [{spec.Min}, {spec.Max}]");
        }

        return null;
    }

    /// <summary>
    /// An FP16 value's bits as a 16-bit integer in the order of the values: non-negative values keep
    /// their bits, negative ones have their magnitude bits flipped, so -0 sits just below +0, the
    /// infinities next to the largest finite values and the NaNs beyond them.
    /// </summary>
    private static short OrderKey(short bits) => (short)(bits ^ ((bits >> 15) & 0x7FFF));

    private static float ValueOfKey(int key) => (float)BitConverter.Int16BitsToHalf(OrderKey((short)key));

    /// <summary>
    /// The order keys of the lowest and highest FP16 values <c>v</c> with <c>low &lt;= v &lt;= high</c>
    /// (finite <paramref name="low"/> and <paramref name="high"/>: they are contiguous in key order);
    /// null when no FP16 value is inside.
    /// </summary>
    private static (short First, short Last)? HalfRange(float low, float high)
    {
        // Start from the nearest FP16 values, then step to the exact ends (rounding, -0 beside +0).
        int first = OrderKey(BitConverter.HalfToInt16Bits((Half)low));
        while (first <= short.MaxValue && !(ValueOfKey(first) >= low))
        {
            first++;
        }

        while (first > short.MinValue && ValueOfKey(first - 1) >= low && ValueOfKey(first - 1) <= high)
        {
            first--;
        }

        int last = OrderKey(BitConverter.HalfToInt16Bits((Half)high));
        while (last >= short.MinValue && !(ValueOfKey(last) <= high))
        {
            last--;
        }

        while (last < short.MaxValue && ValueOfKey(last + 1) <= high && ValueOfKey(last + 1) >= low)
        {
            last++;
        }

        return first <= last && ValueOfKey(first) <= high ? ((short)first, (short)last) : null;
    }

    /// <summary>Whether every FP16 value's order key lies in <c>[first, last]</c>.</summary>
    private static bool AllWithin(ReadOnlySpan<short> bits, short first, short last)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && bits.Length >= Vector<short>.Count)
        {
            var firsts = new Vector<short>(first);
            var lasts = new Vector<short>(last);
            var magnitude = new Vector<short>(0x7FFF);
            var inside = Vector<short>.AllBitsSet;
            foreach (var vector in MemoryMarshal.Cast<short, Vector<short>>(bits))
            {
                var key = vector ^ (Vector.ShiftRightArithmetic(vector, 15) & magnitude);
                inside &= Vector.GreaterThanOrEqual(key, firsts) & Vector.LessThanOrEqual(key, lasts);
            }

            if (inside != Vector<short>.AllBitsSet)
            {
                return false;
            }

            i = bits.Length - (bits.Length % Vector<short>.Count);
        }

        for (; i < bits.Length; i++)
        {
            var key = OrderKey(bits[i]);
            if (key < first || key > last)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether every value <c>v</c> satisfies <c>low &lt;= v &lt;= high</c> (false for NaN).</summary>
    private static bool AllWithin(ReadOnlySpan<float> data, float low, float high)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && data.Length >= Vector<float>.Count)
        {
            var lows = new Vector<float>(low);
            var highs = new Vector<float>(high);
            var inside = Vector<int>.AllBitsSet;
            foreach (var vector in MemoryMarshal.Cast<float, Vector<float>>(data))
            {
                inside &= Vector.GreaterThanOrEqual(vector, lows) & Vector.LessThanOrEqual(vector, highs);
            }

            if (inside != Vector<int>.AllBitsSet)
            {
                return false;
            }

            i = data.Length - (data.Length % Vector<float>.Count);
        }

        for (; i < data.Length; i++)
        {
            if (!(data[i] >= low && data[i] <= high))
            {
                return false;
            }
        }

        return true;
    }

    private static bool ItemDimsMatch(TensorSpec spec, ReadOnlySpan<long> itemShape)
    {
        for (var i = 0; i < itemShape.Length; i++)
        {
            var declared = spec.ItemDims[i];
            if (declared >= 0 && declared != itemShape[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Formats a shape as <c>[a,b,c]</c>.</summary>
    public static string Format(ReadOnlySpan<long> shape)
    {
        var parts = new string[shape.Length];
        for (var i = 0; i < shape.Length; i++)
        {
            parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        }

        return "[" + string.Join(',', parts) + "]";
    }
}
