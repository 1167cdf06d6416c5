namespace ShieldCluster.Protection.Features;

/// <summary>
/// Average-pools each channel of an image item (<c>[C,H,W]</c> or <c>[H,W]</c>) over square blocks,
/// with the smallest block that brings the item down to at most <see cref="MaxValues"/> values; other
/// shapes and items already that small pass through unchanged (block 1). The stateful detectors that
/// look at raw values (Blacklight's window hashes) run on this reduced feature, so their cost stays
/// bounded for large inputs: a 3x224x224 image (150,528 values) becomes 3x56x56 (9,408 values,
/// 4x4 blocks), a 3x299x299 one 3x59x59 (5x5 blocks, the last 4 rows and columns left out); a 1x28x28 Fashion-MNIST image keeps all 784.
/// </summary>
public sealed class BlockPooler
{
    /// <summary>Most values a pooled item keeps.</summary>
    public const int MaxValues = 16_384;

    private readonly int _channels;
    private readonly int _height;
    private readonly int _width;
    private readonly int[] _cellOfColumn;
    private readonly float _inverseArea;
    private readonly int _outHeight;
    private readonly int _outWidth;

    /// <summary>Creates a pooler for items of the given dimensions.</summary>
    public BlockPooler(IReadOnlyList<long> itemDims)
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

        Block = 1;
        if (_height > 1)
        {
            // The smallest block whose pooled item fits; rows and columns past the last whole block
            // (when the block does not divide a side) are left out, so every cell averages Block² values.
            while ((long)_channels * (_height / Block) * (_width / Block) > MaxValues && Block < Math.Min(_height, _width))
            {
                Block++;
            }
        }

        _outHeight = _height / Block;
        _outWidth = _width / Block;
        Length = Block == 1 ? ItemLength : _channels * _outHeight * _outWidth;
        _inverseArea = 1f / (Block * Block);
        _cellOfColumn = new int[_width];
        for (var x = 0; x < _width; x++)
        {
            _cellOfColumn[x] = x / Block;
        }
    }

    /// <summary>Values in one item.</summary>
    public int ItemLength { get; }

    /// <summary>The side of the pooling block; 1 when items pass through unchanged.</summary>
    public int Block { get; }

    /// <summary>Values in one pooled item.</summary>
    public int Length { get; }

    /// <summary>Writes the pooled <paramref name="item"/> into <paramref name="pooled"/> (<see cref="Length"/> values).</summary>
    public void Pool(ReadOnlySpan<float> item, Span<float> pooled)
    {
        if (item.Length != ItemLength)
        {
            throw new ArgumentException($"expected {ItemLength} values, got {item.Length}", nameof(item));
        }

        if (pooled.Length < Length)
        {
            throw new ArgumentException($"the destination needs {Length} values", nameof(pooled));
        }

        if (Block == 1)
        {
            item.CopyTo(pooled);
            return;
        }

        pooled[..Length].Clear();
        var plane = _height * _width;
        var outPlane = _outHeight * _outWidth;
        for (var c = 0; c < _channels; c++)
        {
            var channel = item.Slice(c * plane, plane);
            var target = pooled.Slice(c * outPlane, outPlane);
            for (var y = 0; y < _outHeight * Block; y++)
            {
                var row = channel.Slice(y * _width, _outWidth * Block);
                var cells = target.Slice(y / Block * _outWidth, _outWidth);
                for (var x = 0; x < row.Length; x++)
                {
                    cells[_cellOfColumn[x]] += row[x];
                }
            }

            for (var i = 0; i < target.Length; i++)
            {
                target[i] *= _inverseArea;
            }
        }
    }
}
