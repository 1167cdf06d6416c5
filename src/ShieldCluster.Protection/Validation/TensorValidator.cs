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
    /// <summary>Validates one FP32 input tensor.</summary>
    /// <param name="spec">The model's declaration of this input.</param>
    /// <param name="maxBatchSize">The model's <c>max_batch_size</c>; 0 means the model takes no batch dimension.</param>
    /// <param name="datatype">The datatype the request declared.</param>
    /// <param name="shape">The shape the request declared.</param>
    /// <param name="data">The values the request sent, flattened row-major.</param>
    /// <param name="batchSize">The batch size (1 for an unbatched model) when valid.</param>
    public static string? Validate(TensorSpec spec, int maxBatchSize, string datatype, ReadOnlySpan<long> shape, ReadOnlySpan<float> data, out int batchSize)
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
        if (data.Length != expected)
        {
            return $"input '{spec.Name}' has {data.Length} values; shape {Format(shape)} needs {expected}";
        }

        var rangeError = CheckValues(spec, data);
        if (rangeError is not null)
        {
            return rangeError;
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
        // index runs only on failure. Finite bounds make the same test refuse infinities, and NaN
        // fails every comparison.
        var low = spec.Min is { } min ? Math.Max(min, float.MinValue) : float.MinValue;
        var high = spec.Max is { } max ? Math.Min(max, float.MaxValue) : float.MaxValue;
        if (AllWithin(data, low, high))
        {
            return null;
        }

        for (var i = 0; i < data.Length; i++)
        {
            var v = data[i];
            if (!float.IsFinite(v))
            {
                return $"input '{spec.Name}' contains NaN or infinity at index {i}";
            }

            if (v < spec.Min || v > spec.Max)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"input '{spec.Name}' value {v} at index {i} is outside the model's range [{spec.Min}, {spec.Max}]");
            }
        }

        return null;
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
