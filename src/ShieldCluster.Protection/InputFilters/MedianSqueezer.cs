using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;

namespace ShieldCluster.Protection.InputFilters;

/// <summary>
/// Median smoothing of one image laid out as <c>[C,H,W]</c>, each channel on its own: every pixel becomes
/// the median of a <see cref="WindowSize"/> x <see cref="WindowSize"/> window.
/// </summary>
/// <remarks>
/// <para>
/// <b>Window.</b> The window at row <c>y</c>, column <c>x</c> spans rows <c>y − (w−1)/2</c> to
/// <c>y + w/2</c> and the same columns (integer division). For the 2x2 window that is the pixel, its
/// right neighbour, its lower neighbour and the lower-right one; an odd window is centred. Outside the
/// image the edge is replicated: indices are clamped to the last (or first) row and column, so the last
/// column of a 2x2 window reads <c>(y, W−1)</c> twice and <c>(y+1, W−1)</c> twice.
/// </para>
/// <para>
/// <b>Median.</b> With an even number of values, the median is the mean of the middle two; for 2x2
/// that is the mean of the second and third smallest of the four. (SciPy's <c>median_filter</c>, used by
/// the paper's code, instead takes the upper middle value and centres even windows up-left.)
/// </para>
/// <para>
/// Xu, Evans and Qi, "Feature Squeezing: Detecting Adversarial Examples in Deep Neural Networks",
/// NDSS 2018, arXiv 1704.01155, section IV: 2x2 median smoothing for MNIST and CIFAR-10, 2x2 or 3x3 for
/// ImageNet. The 2x2 path is vectorised row by row with <see cref="TensorPrimitives"/>.
/// </para>
/// </remarks>
public sealed class MedianSqueezer : ISqueezer
{
    /// <summary>Largest window side accepted.</summary>
    public const int MaxWindowSize = 15;

    // Scratch buffers up to this many floats live on the stack; larger ones are rented.
    private const int StackLimit = 768;

    /// <summary>Creates a squeezer for images of <paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/>.</summary>
    /// <param name="channels">Channels; at least 1.</param>
    /// <param name="height">Rows; at least 1.</param>
    /// <param name="width">Columns; at least 1.</param>
    /// <param name="windowSize">Side of the square window, 1 to <see cref="MaxWindowSize"/>; 1 copies the image.</param>
    public MedianSqueezer(int channels, int height, int width, int windowSize = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(windowSize, MaxWindowSize);
        var length = (long)channels * height * width;
        if (length > int.MaxValue)
        {
            throw new ArgumentException("the image is too large", nameof(width));
        }

        Channels = channels;
        Height = height;
        Width = width;
        WindowSize = windowSize;
        ItemLength = (int)length;
        Name = string.Create(CultureInfo.InvariantCulture, $"median-{windowSize}x{windowSize}");
    }

    /// <summary>
    /// Creates a squeezer from a model's item dimensions: <c>[C,H,W]</c>, or <c>[H,W]</c> as one channel.
    /// </summary>
    public static MedianSqueezer ForItemDims(IReadOnlyList<long> itemDims, int windowSize = 2)
    {
        ArgumentNullException.ThrowIfNull(itemDims);
        return itemDims.Count switch
        {
            3 => new MedianSqueezer(ToInt(itemDims[0]), ToInt(itemDims[1]), ToInt(itemDims[2]), windowSize),
            2 => new MedianSqueezer(1, ToInt(itemDims[0]), ToInt(itemDims[1]), windowSize),
            _ => throw new ArgumentException("median smoothing needs [C,H,W] or [H,W] item dimensions", nameof(itemDims)),
        };

        static int ToInt(long dim) => dim is >= 1 and <= int.MaxValue
            ? (int)dim
            : throw new ArgumentException("item dimensions must be positive", nameof(itemDims));
    }

    /// <summary>Channels per image.</summary>
    public int Channels { get; }

    /// <summary>Rows per channel.</summary>
    public int Height { get; }

    /// <summary>Columns per row.</summary>
    public int Width { get; }

    /// <summary>Side of the square window.</summary>
    public int WindowSize { get; }

    /// <summary>Values in one item: <see cref="Channels"/> x <see cref="Height"/> x <see cref="Width"/>.</summary>
    public int ItemLength { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    /// <remarks>
    /// Both spans must hold <see cref="ItemLength"/> values and must not overlap, since every output
    /// pixel reads its neighbours.
    /// </remarks>
    public void Squeeze(ReadOnlySpan<float> item, Span<float> destination)
    {
        if (item.Length != ItemLength)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"expected {ItemLength} values, got {item.Length}"), nameof(item));
        }

        if (destination.Length != ItemLength)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"destination has {destination.Length} values; expected {ItemLength}"), nameof(destination));
        }

        if (item.Overlaps(destination))
        {
            throw new ArgumentException("destination must not overlap the item", nameof(destination));
        }

        var plane = Height * Width;
        for (var c = 0; c < Channels; c++)
        {
            var source = item.Slice(c * plane, plane);
            var target = destination.Slice(c * plane, plane);
            switch (WindowSize)
            {
                case 1:
                    source.CopyTo(target);
                    break;
                case 2:
                    Median2x2(source, target);
                    break;
                default:
                    MedianGeneral(source, target);
                    break;
            }
        }
    }

    private void Median2x2(ReadOnlySpan<float> source, Span<float> target)
    {
        var w = Width;
        var n = w - 1;
        float[]? rented = null;
        var scratch = 3 * n <= StackLimit ? stackalloc float[StackLimit] : (rented = ArrayPool<float>.Shared.Rent(3 * n)).AsSpan();
        try
        {
            var hi = scratch.Slice(0, n);
            var lowerLo = scratch.Slice(n, n);
            var lowerHi = scratch.Slice(2 * n, n);
            for (var y = 0; y < Height; y++)
            {
                var row = source.Slice(y * w, w);
                var below = source.Slice(Math.Min(y + 1, Height - 1) * w, w);
                var output = target.Slice(y * w, w);
                if (n > 0)
                {
                    var lo = output[..n];
                    TensorPrimitives.Min(row[..n], row[1..], lo);
                    TensorPrimitives.Max(row[..n], row[1..], hi);
                    TensorPrimitives.Min(below[..n], below[1..], lowerLo);
                    TensorPrimitives.Max(below[..n], below[1..], lowerHi);
                    // Of four values, the middle two are the larger pair minimum and the smaller pair maximum.
                    TensorPrimitives.Max(lo, lowerLo, lo);
                    TensorPrimitives.Min(hi, lowerHi, hi);
                    TensorPrimitives.Add(lo, hi, lo);
                    TensorPrimitives.Multiply(lo, 0.5f, lo);
                }

                // The last column's right neighbours are itself (edge replication).
                output[n] = Median4(row[n], row[n], below[n], below[n]);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    private static float Median4(float a, float b, float c, float d) =>
        (MathF.Max(MathF.Min(a, b), MathF.Min(c, d)) + MathF.Min(MathF.Max(a, b), MathF.Max(c, d))) * 0.5f;

    private void MedianGeneral(ReadOnlySpan<float> source, Span<float> target)
    {
        var before = (WindowSize - 1) / 2;
        var after = WindowSize / 2;
        var count = WindowSize * WindowSize;
        Span<float> window = stackalloc float[MaxWindowSize * MaxWindowSize];
        window = window[..count];
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                var k = 0;
                for (var dy = -before; dy <= after; dy++)
                {
                    var row = source.Slice(Math.Clamp(y + dy, 0, Height - 1) * Width, Width);
                    for (var dx = -before; dx <= after; dx++)
                    {
                        window[k++] = row[Math.Clamp(x + dx, 0, Width - 1)];
                    }
                }

                window.Sort();
                var middle = count / 2;
                target[(y * Width) + x] = count % 2 == 1 ? window[middle] : (window[middle - 1] + window[middle]) * 0.5f;
            }
        }
    }
}
