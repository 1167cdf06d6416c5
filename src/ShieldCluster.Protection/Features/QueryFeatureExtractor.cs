using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace ShieldCluster.Protection.Features;

/// <summary>
/// Reduces one input item to <see cref="QueryFeatures"/>. Images (<c>[C,H,W]</c> or <c>[H,W]</c>) are
/// average-pooled over channels and blocks to at most <see cref="MaxSide"/> x <see cref="MaxSide"/>
/// cells; anything else is pooled into at most <see cref="MaxSide"/>² bins. Values are scaled from the
/// declared range to 0-255. A 28x28 Fashion-MNIST image keeps its full resolution (784 bytes, which
/// the distance-based detectors need to see small perturbations); a 224x224x3 image becomes 32x32
/// grey cells (1,024 bytes).
/// </summary>
public sealed class QueryFeatureExtractor
{
    /// <summary>Largest side of the pooled thumbnail.</summary>
    public const int MaxSide = 32;

    private readonly int _channels;
    private readonly int _height;
    private readonly int _width;
    private readonly int _block;
    private readonly int _outHeight;
    private readonly int _outWidth;
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

        _min = min;
        _scale = max > min ? 255f / (max - min) : 0f;
    }

    /// <summary>Values in one item.</summary>
    public int ItemLength { get; }

    /// <summary>Bytes in one thumbnail.</summary>
    public int ThumbnailLength => _outHeight * _outWidth;

    /// <summary>Extracts the features of one item.</summary>
    public QueryFeatures Extract(ReadOnlySpan<float> item)
    {
        if (item.Length != ItemLength)
        {
            throw new ArgumentException($"expected {ItemLength} values, got {item.Length}", nameof(item));
        }

        var digest = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(item));
        var thumbnail = new byte[ThumbnailLength];
        var sums = new float[ThumbnailLength];
        var counts = new int[ThumbnailLength];
        var plane = _height * _width;
        for (var c = 0; c < _channels; c++)
        {
            var channel = item.Slice(c * plane, plane);
            for (var y = 0; y < _height; y++)
            {
                var row = channel.Slice(y * _width, _width);
                var cellRow = (y / _block) * _outWidth;
                for (var x = 0; x < _width; x++)
                {
                    var cell = cellRow + x / _block;
                    sums[cell] += row[x];
                    counts[cell]++;
                }
            }
        }

        for (var i = 0; i < thumbnail.Length; i++)
        {
            var mean = sums[i] / counts[i];
            thumbnail[i] = (byte)Math.Clamp(MathF.Round((mean - _min) * _scale), 0f, 255f);
        }

        return new QueryFeatures(digest, thumbnail);
    }
}
