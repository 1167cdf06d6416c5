using System.Globalization;
using System.Numerics.Tensors;

namespace ShieldCluster.Protection.InputFilters;

/// <summary>
/// Reduces the colour depth of an item to <see cref="Bits"/> bits: each value is scaled from the declared
/// range [<see cref="Min"/>, <see cref="Max"/>] to [0, 1], rounded to the grid
/// <c>round(x · (2^bits − 1)) / (2^bits − 1)</c>, and scaled back.
/// </summary>
/// <remarks>
/// <para>
/// Rounding sends midpoints away from zero (<see cref="MidpointRounding.AwayFromZero"/>): with 1 bit,
/// values below the middle of the range go to <see cref="Min"/>, values at or above it go to
/// <see cref="Max"/> (the reference implementation's <c>np.rint</c> would send an exact 0.5 to 0).
/// Values outside the range are clamped to it first; the output always lies in [<see cref="Min"/>,
/// <see cref="Max"/>]. NaN propagates, so validate items first.
/// </para>
/// <para>
/// Xu, Evans and Qi, "Feature Squeezing: Detecting Adversarial Examples in Deep Neural Networks",
/// NDSS 2018, arXiv 1704.01155, section IV: 1-bit depth for MNIST, 5 bits for CIFAR-10 and ImageNet.
/// </para>
/// </remarks>
public sealed class BitDepthSqueezer : ISqueezer
{
    /// <summary>Most bits accepted; single precision represents every level up to 2^24 − 1 exactly.</summary>
    public const int MaxBits = 24;

    private readonly float _range;
    private readonly float _levels;

    /// <summary>Creates a squeezer to <paramref name="bits"/> bits over the value range [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <param name="bits">Bits kept, 1 to <see cref="MaxBits"/>.</param>
    /// <param name="min">Lower end of the model's input range.</param>
    /// <param name="max">Upper end of the model's input range; greater than <paramref name="min"/>.</param>
    public BitDepthSqueezer(int bits, float min = 0f, float max = 1f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, MaxBits);
        _range = max - min;
        if (!float.IsFinite(min) || !float.IsFinite(max) || !(max > min) || !float.IsFinite(_range))
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"range [{min}, {max}] must be finite with max > min"), nameof(max));
        }

        Bits = bits;
        Min = min;
        Max = max;
        _levels = (1 << bits) - 1;
        Name = string.Create(CultureInfo.InvariantCulture, $"bit-depth-{bits}");
    }

    /// <summary>Bits kept per value.</summary>
    public int Bits { get; }

    /// <summary>Lower end of the value range.</summary>
    public float Min { get; }

    /// <summary>Upper end of the value range.</summary>
    public float Max { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    /// <remarks><paramref name="destination"/> may be the same span as <paramref name="item"/>.</remarks>
    public void Squeeze(ReadOnlySpan<float> item, Span<float> destination)
    {
        if (destination.Length != item.Length)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"destination has {destination.Length} values; the item has {item.Length}"), nameof(destination));
        }

        // Divide rather than multiply by reciprocals: for [0, 1] the grid values k / levels then come back bit for bit.
        TensorPrimitives.Subtract(item, Min, destination);
        TensorPrimitives.Divide(destination, _range, destination);
        TensorPrimitives.Clamp(destination, 0f, 1f, destination);
        TensorPrimitives.Multiply(destination, _levels, destination);
        TensorPrimitives.Round(destination, MidpointRounding.AwayFromZero, destination);
        TensorPrimitives.Divide(destination, _levels, destination);
        TensorPrimitives.Multiply(destination, _range, destination);
        TensorPrimitives.Add(destination, Min, destination);
        // (max - min) + min can land one ulp outside the range.
        TensorPrimitives.Clamp(destination, Min, Max, destination);
    }
}
