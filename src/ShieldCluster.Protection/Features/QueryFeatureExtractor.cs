using System.Buffers;
using System.IO.Hashing;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using ShieldCluster.Protection.Numerics;

namespace ShieldCluster.Protection.Features;

/// <summary>
/// Reduces one input item to <see cref="QueryFeatures"/>. Images (<c>[C,H,W]</c> or <c>[H,W]</c>) are
/// average-pooled over blocks to at most <see cref="MaxSide"/> x <see cref="MaxSide"/> cells per
/// channel, and the channels averaged into a grey thumbnail; anything else is pooled into at most
/// <see cref="MaxSide"/>² bins. Values are scaled from the declared range to 0-255. A 28x28
/// Fashion-MNIST image keeps its full resolution (784 bytes, which the distance-based detectors need
/// to see small perturbations); a 224x224x3 image becomes 32x32 grey cells (1,024 bytes), and its
/// per-channel cells (3x32x32 values, <see cref="ChannelCellsLength"/>) are what large items are
/// fingerprinted on (see <see cref="ReducesForFingerprint"/>). Two vectorised passes over the item:
/// the digest, then the pooling (rows summed column-wise a band of cells at a time); the thumbnail
/// is vectorised over the cells.
/// </summary>
public sealed class QueryFeatureExtractor
{
    /// <summary>Largest side of the pooled thumbnail.</summary>
    public const int MaxSide = 32;

    /// <summary>Items with more values than this are fingerprinted on their per-channel cells.</summary>
    public const int MaxFingerprintValues = 16_384;

    private readonly int _channels;
    private readonly int _height;
    private readonly int _width;
    private readonly int _block;
    private readonly int _outHeight;
    private readonly int _outWidth;
    private readonly float[] _inverseCount;
    private readonly float _min;
    private readonly float _scale;

    /// <summary>Creates an extractor for items of the given dimensions and value range.</summary>
    public QueryFeatureExtractor(IReadOnlyList<long> itemDims, float min, float max)
    {
        ArgumentNullException.ThrowIfNull(itemDims);
        (_channels, _height, _width) = itemDims.Count switch
        {
            3 => ((int)itemDims[0], (int)itemDims[1], (int)itemDims[2]),
            2 => (1, (int)itemDims[0], (int)itemDims[1]),
            _ => (1, 1, (int)itemDims.Aggregate(1L, (a, d) => a * d)),
        };
        ItemLength = _channels * _height * _width;
        if (ItemLength <= 0)
        {
            throw new ArgumentException("item dimensions must be positive", nameof(itemDims));
        }

        if (_height == 1)
        {
            // One-dimensional input: pool into at most MaxSide² bins along the single axis.
            _block = (int)Math.Ceiling(_width / (double)(MaxSide * MaxSide));
            _outHeight = 1;
            _outWidth = (_width + _block - 1) / _block;
        }
        else
        {
            _block = (int)Math.Ceiling(Math.Max(_height, _width) / (double)MaxSide);
            _outHeight = (_height + _block - 1) / _block;
            _outWidth = (_width + _block - 1) / _block;
        }

        // Values per cell in one channel (edge cells may be smaller), inverted once.
        _inverseCount = new float[_outHeight * _outWidth];
        for (var cy = 0; cy < _outHeight; cy++)
        {
            var rows = Math.Min(_block, _height - (cy * _block));
            for (var cx = 0; cx < _outWidth; cx++)
            {
                var columns = Math.Min(_block, _width - (cx * _block));
                _inverseCount[(cy * _outWidth) + cx] = 1f / (rows * columns);
            }
        }

        _min = min;
        _scale = max > min ? 255f / (max - min) : 0f;
    }

    /// <summary>Values in one item.</summary>
    public int ItemLength { get; }

    /// <summary>Bytes in one thumbnail.</summary>
    public int ThumbnailLength => _outHeight * _outWidth;

    /// <summary>Values in one item's per-channel cells (channels x thumbnail cells).</summary>
    public int ChannelCellsLength => _channels * _outHeight * _outWidth;

    /// <summary>True when items are large enough to be fingerprinted on their per-channel cells.</summary>
    public bool ReducesForFingerprint => ItemLength > MaxFingerprintValues && _block > 1;

    /// <summary>Extracts the features of one item.</summary>
    public QueryFeatures Extract(ReadOnlySpan<float> item)
    {
        var cells = ChannelCellsLength <= 4096 ? stackalloc float[ChannelCellsLength] : new float[ChannelCellsLength];
        return Extract(item, cells);
    }

    /// <summary>
    /// Extracts the features of one item and writes its per-channel cell means (in the item's value
    /// range, channel-major) into <paramref name="channelCells"/> (<see cref="ChannelCellsLength"/> values).
    /// </summary>
    public QueryFeatures Extract(ReadOnlySpan<float> item, Span<float> channelCells)
    {
        CheckLengths(item.Length, channelCells);
        var digest = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(item));
        if (_block == 1)
        {
            // Cells are the values themselves (a 28x28 image keeps its resolution).
            item.CopyTo(channelCells);
        }
        else
        {
            Pool(item, [], channelCells, []);
        }

        return WithThumbnail(digest, channelCells);
    }

    /// <summary>
    /// Extracts the features of one item whose values are FP16 (an fp16 model's input as it came): the
    /// digest is of its FP16 bytes (the values as the model reads them, half the bytes of their FP32
    /// widening), and the cells and thumbnail are bit for bit those of the widened item, widened one
    /// band of rows at a time instead of the whole item first.
    /// </summary>
    public QueryFeatures Extract(ReadOnlySpan<Half> item, Span<float> channelCells)
    {
        CheckLengths(item.Length, channelCells);
        var digest = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(item));
        if (_block == 1)
        {
            HalfWidening.Widen(item, channelCells[..ItemLength]);
            return WithThumbnail(digest, channelCells);
        }

        // Bands are summed as they widen where that is vectorised; otherwise each band is widened
        // into a buffer first.
        var bandLength = HalfWidening.IsAccelerated ? 0 : _block * _width;
        float[]? rented = null;
        var band = bandLength <= 4096 ? stackalloc float[bandLength] : (rented = ArrayPool<float>.Shared.Rent(bandLength)).AsSpan(0, bandLength);
        try
        {
            Pool([], item, channelCells, band);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }

        return WithThumbnail(digest, channelCells);
    }

    private void CheckLengths(int itemLength, Span<float> channelCells)
    {
        if (itemLength != ItemLength)
        {
            throw new ArgumentException($"expected {ItemLength} values, got {itemLength}", nameof(itemLength));
        }

        if (channelCells.Length < ChannelCellsLength)
        {
            throw new ArgumentException($"the destination needs {ChannelCellsLength} values", nameof(channelCells));
        }
    }

    private QueryFeatures WithThumbnail(ulong digest, ReadOnlySpan<float> channelCells)
    {
        var thumbnail = new byte[_outHeight * _outWidth];
        Quantise(channelCells, thumbnail);
        return new QueryFeatures(digest, thumbnail);
    }

    /// <summary>
    /// The per-channel cell means of an item given in FP32 (<paramref name="singles"/>) or in FP16
    /// (<paramref name="halves"/>: each band of rows summed as it widens, or, where that is not
    /// vectorised, widened into <paramref name="band"/> first and then summed).
    /// Vectorised: the rows of one band of cells are summed column-wise first (all of the band's rows
    /// in one pass), then each band's column sums are folded into its cells, so the scalar work per
    /// value is gone (a 224-wide row band costs 224 scalar adds instead of 7 x 224).
    /// </summary>
    private void Pool(ReadOnlySpan<float> singles, ReadOnlySpan<Half> halves, Span<float> channelCells, Span<float> band)
    {
        var plane = _height * _width;
        var outPlane = _outHeight * _outWidth;
        var bandSums = _width <= 2048 ? stackalloc float[_width] : new float[_width];
        for (var c = 0; c < _channels; c++)
        {
            var cells = channelCells.Slice(c * outPlane, outPlane);
            for (var cy = 0; cy < _outHeight; cy++)
            {
                var first = cy * _block;
                var rows = Math.Min(_block, _height - first);
                var start = (c * plane) + (first * _width);
                if (halves.IsEmpty)
                {
                    SumRows(singles.Slice(start, rows * _width), rows, bandSums);
                }
                else if (band.IsEmpty)
                {
                    HalfWidening.SumRows(halves.Slice(start, rows * _width), rows, bandSums);
                }
                else
                {
                    TensorPrimitives.ConvertToSingle(halves.Slice(start, rows * _width), band[..(rows * _width)]);
                    SumRows(band[..(rows * _width)], rows, bandSums);
                }

                var cellRow = cells.Slice(cy * _outWidth, _outWidth);
                for (var cx = 0; cx < _outWidth; cx++)
                {
                    var from = cx * _block;
                    cellRow[cx] = TensorPrimitives.Sum(bandSums.Slice(from, Math.Min(_block, _width - from)));
                }
            }

            TensorPrimitives.Multiply(cells, _inverseCount, cells);
        }
    }

    /// <summary>
    /// Sums the <paramref name="rows"/> rows in <paramref name="band"/> column-wise into
    /// <paramref name="sums"/>, each column's values added in row order: bit for bit the sums of
    /// adding one whole row after another, in one pass over the band.
    /// </summary>
    private static void SumRows(ReadOnlySpan<float> band, int rows, Span<float> sums)
    {
        var width = sums.Length;
        var x = 0;
        if (Vector.IsHardwareAccelerated && width >= Vector<float>.Count)
        {
            // Unchecked loads: the band holds rows x width values, and x stays a vector short of width.
            ref var first = ref MemoryMarshal.GetReference(band);
            ref var destination = ref MemoryMarshal.GetReference(sums);
            for (; x <= width - Vector<float>.Count; x += Vector<float>.Count)
            {
                var sum = Vector.LoadUnsafe(ref first, (nuint)x);
                for (var r = 1; r < rows; r++)
                {
                    sum += Vector.LoadUnsafe(ref first, (nuint)((r * width) + x));
                }

                sum.StoreUnsafe(ref destination, (nuint)x);
            }
        }

        for (; x < width; x++)
        {
            var sum = band[x];
            for (var r = 1; r < rows; r++)
            {
                sum += band[(r * width) + x];
            }

            sums[x] = sum;
        }
    }

    /// <summary>
    /// The grey thumbnail: each cell's mean over the channels (summed in channel order), scaled from
    /// the value range to 0-255, rounded to even and clamped; vectorised, with the scalar
    /// definition for the cells past the last whole vector.
    /// </summary>
    private void Quantise(ReadOnlySpan<float> channelCells, Span<byte> thumbnail)
    {
        var outPlane = thumbnail.Length;
        var channelWeight = 1f / _channels;
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Four float vectors narrow to one byte vector.
            var count = Vector<float>.Count;
            for (; i <= outPlane - (4 * count); i += 4 * count)
            {
                var low = Vector.Narrow(Grey(channelCells, i, outPlane, channelWeight), Grey(channelCells, i + count, outPlane, channelWeight));
                var high = Vector.Narrow(Grey(channelCells, i + (2 * count), outPlane, channelWeight), Grey(channelCells, i + (3 * count), outPlane, channelWeight));
                Vector.AsVectorByte(Vector.Narrow(low, high)).CopyTo(thumbnail[i..]);
            }
        }

        for (; i < outPlane; i++)
        {
            var sum = 0f;
            for (var c = 0; c < _channels; c++)
            {
                sum += channelCells[(c * outPlane) + i];
            }

            thumbnail[i] = (byte)Math.Clamp(MathF.Round(((sum * channelWeight) - _min) * _scale), 0f, 255f);
        }
    }

    /// <summary>The grey values 0-255 of the <see cref="Vector{T}.Count"/> cells from <paramref name="cell"/>.</summary>
    private Vector<int> Grey(ReadOnlySpan<float> channelCells, int cell, int outPlane, float channelWeight)
    {
        var sum = Vector<float>.Zero;
        for (var c = 0; c < _channels; c++)
        {
            sum += new Vector<float>(channelCells.Slice((c * outPlane) + cell, Vector<float>.Count));
        }

        var scaled = Vector.Round(((sum * channelWeight) - new Vector<float>(_min)) * _scale);
        return Vector.ConvertToInt32(Vector.Min(Vector.Max(scaled, Vector<float>.Zero), new Vector<float>(255f)));
    }
}
