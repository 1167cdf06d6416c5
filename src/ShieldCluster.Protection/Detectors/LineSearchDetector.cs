using ShieldCluster.Protection.Features;

namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// Detects boundary walks: a query that lies on the straight line through two of the client's
/// recent, clearly different inputs.
/// </summary>
/// <remarks>
/// Decision-based evasion attacks search along lines: HopSkipJump (Chen, Jordan and Wainwright, IEEE
/// S&amp;P 2020, arXiv 1904.02144) and the Boundary attack (Brendel, Rauber and Bethge, ICLR 2018)
/// binary-search the segment between the original x and a starting image x' of another class, the
/// queries (1 - a) x + a x' with a halving; GeoDA, Sign-OPT and RayS binary-search a radius along a
/// direction from x. Every such step is collinear with two earlier queries of the same client (the
/// ends, or two earlier steps), long before the steps come close enough to each other for
/// Blacklight's hashes to match. Honest traffic (other images, retries, crops, shifts, brightness
/// changes, re-encodings) does not blend two different images. Brightness, contrast and gamma
/// changes of one image are (nearly) collinear too, so a line whose ends are such a map of each
/// other, or a query that is such a map of an end, is ignored: a map that changes each value by an
/// amount depending on the value alone (clipping included) explains the difference by its mean per
/// value of the end, two different images do not.
/// Cost: the newest <see cref="LineSearchOptions.Memory"/> distinct inputs are kept with a Gram
/// matrix of their dot products, updated with one vectorised dot product per kept input; then every
/// pair (a, b) is tested in O(1): with u = q - a and v = b - a, t = &lt;u, v&gt; / |v|², and the
/// squared distance from the line is |u|² - t &lt;u, v&gt;.
/// </remarks>
public sealed class LineSearchDetector
{
    private readonly LineSearchOptions _options;
    private readonly int _memory;
    private readonly byte[]?[] _inputs;
    private const byte PairUnknown = 0;
    private const byte PairDistinct = 1;
    private const byte PairBrightness = 2;
    private readonly long[] _sequence;
    private readonly long[] _gram;
    private readonly long[] _dots;
    private readonly byte[] _pairs;
    private int _next;
    private long _observed;

    /// <summary>Creates a detector with empty state.</summary>
    public LineSearchDetector(LineSearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Memory is < 2 or > 256 || !(options.MinSpanRms > 0) || !(options.MaxResidualRms >= 0) || !(options.MaxResidualShare >= 0)
            || !(options.MinStepRms >= 0) || !(options.MaxExtrapolation >= 0) || !(options.MinUnexplainedShare is >= 0 and <= 1))
        {
            throw new ArgumentException("line-search options out of range (memory 2-256, MinSpanRms positive, MinUnexplainedShare 0-1, the rest non-negative)", nameof(options));
        }

        _options = options;
        _memory = options.Memory;
        _inputs = new byte[_memory][];
        _sequence = new long[_memory];
        _gram = new long[_memory * _memory];
        _dots = new long[_memory];
        _pairs = new byte[_memory * _memory];
    }

    /// <summary>Inputs kept.</summary>
    public int Kept { get; private set; }

    /// <summary>
    /// Tests one query against the lines through every pair of kept inputs, then keeps it if
    /// <paramref name="keep"/> (callers pass false for near-duplicates, which would crowd the memory).
    /// Returns the best line the query lies on, or null.
    /// </summary>
    public LineSearchHit? Observe(byte[] features, bool keep = true)
    {
        ArgumentNullException.ThrowIfNull(features);
        _observed++;
        var n = features.Length;
        var qq = FeatureDistance.Dot(features, features);
        for (var i = 0; i < _memory; i++)
        {
            _dots[i] = _inputs[i] is { } kept && kept.Length == n ? FeatureDistance.Dot(features, kept) : 0;
        }

        var hit = Test(features, qq);
        if (keep)
        {
            Keep(features, qq);
        }

        return hit;
    }

    /// <summary>The Gram matrix entry of the inputs kept in slots <paramref name="i"/> and <paramref name="j"/> (for tests).</summary>
    internal long Gram(int i, int j) => _gram[(i * _memory) + j];

    /// <summary>The input kept in slot <paramref name="i"/> (for tests).</summary>
    internal byte[]? Input(int i) => _inputs[i];

    private LineSearchHit? Test(byte[] q, long qq)
    {
        var n = (double)q.Length;
        var minSpan2 = _options.MinSpanRms * _options.MinSpanRms * n;
        var maxResidual2 = _options.MaxResidualRms * _options.MaxResidualRms * n;
        var share2 = _options.MaxResidualShare * _options.MaxResidualShare;
        var minStep2 = _options.MinStepRms * _options.MinStepRms * n;
        var low = -_options.MaxExtrapolation;
        var high = 1 + _options.MaxExtrapolation;
        for (var a = 0; a < _memory; a++)
        {
            if (_inputs[a] is not { } inputA || inputA.Length != q.Length)
            {
                continue;
            }

            var aa = (double)_gram[(a * _memory) + a];
            var qa = (double)_dots[a];
            var uu = qq - (2 * qa) + aa;
            if (uu < minStep2)
            {
                continue;
            }

            for (var b = a + 1; b < _memory; b++)
            {
                if (_inputs[b] is not { } inputB || inputB.Length != q.Length)
                {
                    continue;
                }

                var bb = (double)_gram[(b * _memory) + b];
                var ab = (double)_gram[(a * _memory) + b];
                var vv = bb - (2 * ab) + aa;
                if (vv < minSpan2)
                {
                    continue;
                }

                var qb = (double)_dots[b];
                var uv = qb - qa - ab + aa;
                var t = uv / vv;
                if (t < low || t > high)
                {
                    continue;
                }

                var residual2 = Math.Max(0, uu - (t * uv));
                if (residual2 > maxResidual2 || residual2 > share2 * vv)
                {
                    continue;
                }

                // |q - b|² = |u - v|².
                if (uu - (2 * uv) + vv < minStep2)
                {
                    continue;
                }

                // The rare candidates only: is one end, or the query, a brightness map of an end?
                if (IsBrightnessPair(a, b) || IsBrightnessMap(inputA, q) || IsBrightnessMap(inputB, q))
                {
                    continue;
                }

                // Report the ends oldest first, t measured from the older end.
                var (older, newer, tOlder) = _sequence[a] <= _sequence[b] ? (a, b, t) : (b, a, 1 - t);
                return new LineSearchHit(
                    (int)(_observed - _sequence[older]),
                    (int)(_observed - _sequence[newer]),
                    tOlder,
                    Math.Sqrt(residual2 / n),
                    Math.Sqrt(vv / n));
            }
        }

        return null;
    }

    /// <summary>Whether one of the kept inputs in slots <paramref name="a"/> and <paramref name="b"/> is a brightness map of the other (cached per pair).</summary>
    private bool IsBrightnessPair(int a, int b)
    {
        var index = (a * _memory) + b;
        if (_pairs[index] == PairUnknown)
        {
            var inputA = _inputs[a]!;
            var inputB = _inputs[b]!;
            _pairs[index] = IsBrightnessMap(inputA, inputB) || IsBrightnessMap(inputB, inputA) ? PairBrightness : PairDistinct;
        }

        return _pairs[index] == PairBrightness;
    }

    /// <summary>
    /// Whether <paramref name="other"/> - <paramref name="end"/> is (nearly) a function of
    /// <paramref name="end"/>'s value at each feature: brightness, contrast, gamma and their clipping
    /// change each value by an amount that depends on the value alone. The share of the
    /// difference's energy left unexplained by its mean per value of <paramref name="end"/> must
    /// reach <see cref="LineSearchOptions.MinUnexplainedShare"/>.
    /// </summary>
    private bool IsBrightnessMap(byte[] end, byte[] other)
    {
        Span<long> sums = stackalloc long[256];
        Span<int> counts = stackalloc int[256];
        sums.Clear();
        counts.Clear();
        long total = 0;
        for (var i = 0; i < end.Length; i++)
        {
            var value = end[i];
            var d = other[i] - value;
            sums[value] += d;
            counts[value]++;
            total += d * d;
        }

        var explained = 0.0;
        for (var v = 0; v < 256; v++)
        {
            if (counts[v] > 0)
            {
                explained += sums[v] * (double)sums[v] / counts[v];
            }
        }

        return total == 0 || total - explained < _options.MinUnexplainedShare * total;
    }

    private void Keep(byte[] features, long qq)
    {
        var slot = _next;
        KeptInputs.Keep(ref _inputs[slot], features);
        _sequence[slot] = _observed;
        for (var i = 0; i < _memory; i++)
        {
            var dot = i == slot ? qq : _dots[i];
            _gram[(slot * _memory) + i] = dot;
            _gram[(i * _memory) + slot] = dot;
            _pairs[(slot * _memory) + i] = PairUnknown;
            _pairs[(i * _memory) + slot] = PairUnknown;
        }

        _next = (_next + 1) % _memory;
        Kept = Math.Min(Kept + 1, _memory);
    }
}

/// <summary>A query found on the line through two earlier inputs of the same client.</summary>
/// <param name="OlderBack">How many queries back the older end was (1: the query before).</param>
/// <param name="NewerBack">How many queries back the newer end was.</param>
/// <param name="T">The query's position on the line: 0 at the older end, 1 at the newer.</param>
/// <param name="ResidualRms">Its distance from the line, RMS levels per feature.</param>
/// <param name="SpanRms">The ends' distance, RMS levels per feature.</param>
public readonly record struct LineSearchHit(int OlderBack, int NewerBack, double T, double ResidualRms, double SpanRms);
