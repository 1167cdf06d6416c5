using ShieldCluster.Protection.Features;
using ShieldCluster.Protection.Statistics;

namespace ShieldCluster.Protection.Detectors;

/// <summary>
/// Detects model extraction by synthetic queries from one client's stream of queries.
/// </summary>
/// <remarks>
/// PRADA (M. Juuti, S. Szyller, S. Marchal, N. Asokan, "PRADA: Protecting against DNN Model
/// Stealing Attacks", EuroS&amp;P 2019, arXiv 1805.02628). For each query x predicted as class c, the
/// minimum L2 distance d from x to the class's growing set G_c is appended to the distance list D;
/// if d exceeds the class threshold T_c (mean minus standard deviation of the distances that grew
/// G_c, never decreasing), x joins G_c. Natural queries give roughly normally distributed distances;
/// synthetic ones (seeds plus small gradient-sign steps) give a mass of tiny distances and a tail, so
/// a Shapiro-Wilk W below <see cref="PradaOptions.Delta"/> raises the alarm.
/// Bounded here: G_c keeps <see cref="PradaOptions.MaxPerClass"/> members (oldest replaced), D the
/// newest <see cref="PradaOptions.Window"/> distances. An exact duplicate of a set member (distance
/// 0: a retry) is skipped, since a retry is no evidence. A class's set holds inputs of one length
/// only (sets are keyed by class and length, see <see cref="Observe"/>). Known miss: natural-image attacks
/// (Knockoff Nets), whose distances look normal.
/// </remarks>
public sealed class PradaDetector
{
    private readonly PradaOptions _options;
    private readonly Dictionary<long, ClassSet> _classes = [];
    private readonly double[] _window;
    private readonly double[] _ordered;
    private int _next;
    private int _count;

    /// <summary>Creates a detector with empty state.</summary>
    public PradaDetector(PradaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Window is < ShapiroWilk.MinSize or > ShapiroWilk.MaxSize || options.MinDistances < ShapiroWilk.MinSize
            || options.MinDistances > options.Window || options.MaxPerClass < 1)
        {
            throw new ArgumentException("PRADA options out of range (window 3-5000, 3 <= min distances <= window, max per class >= 1)", nameof(options));
        }

        _options = options;
        _window = new double[options.Window];
        _ordered = new double[options.Window];
    }

    /// <summary>The latest W, if the test has run.</summary>
    public double? LastW { get; private set; }

    /// <summary>Observes one query: its predicted class and its feature vector.</summary>
    /// <remarks>
    /// Class sets are keyed by the predicted class and the feature vector's length: a client using two
    /// models with inputs of different sizes gets separate growing sets per model-sized input (PRADA's
    /// sets are per model and class; inputs of different lengths have no L2 distance). The distance
    /// list stays one per client, as in the paper.
    /// </remarks>
    public PradaObservation Observe(int predictedClass, ReadOnlySpan<byte> features)
    {
        var key = ((long)predictedClass << 32) | (uint)features.Length;
        if (!_classes.TryGetValue(key, out var set))
        {
            set = new ClassSet(_options.MaxPerClass, features.Length);
            _classes[key] = set;
            set.Add(features, null);
            return new PradaObservation(null, LastW, IsAlarm, _count);
        }

        var nearest = set.NearestSquared(features);
        if (nearest == 0)
        {
            return new PradaObservation(null, LastW, IsAlarm, _count);
        }

        var distance = Math.Sqrt(nearest);
        if (_count == _window.Length)
        {
            // The window is full: its oldest distance leaves the sorted copy too.
            var leaving = Array.BinarySearch(_ordered, 0, _count, _window[_next]);
            Array.Copy(_ordered, leaving + 1, _ordered, leaving, _count - leaving - 1);
            _count--;
        }

        // The sorted copy is kept in order by insertion (a shift of at most the window), so the test
        // needs no sort per query.
        var at = Array.BinarySearch(_ordered, 0, _count, distance);
        at = at < 0 ? ~at : at;
        Array.Copy(_ordered, at, _ordered, at + 1, _count - at);
        _ordered[at] = distance;
        _window[_next] = distance;
        _next = (_next + 1) % _window.Length;
        _count++;
        if (distance > set.Threshold)
        {
            set.Add(features, distance);
        }

        if (_count >= _options.MinDistances)
        {
            LastW = ShapiroWilk.StatisticOfSorted(_ordered.AsSpan(0, _count));
        }

        return new PradaObservation(distance, LastW, IsAlarm, _count);
    }

    private bool IsAlarm => LastW < _options.Delta;

    /// <summary>
    /// A class's growing set: its members side by side in one array (member i at i x length), so the
    /// nearest-member scan streams one block of memory. The array starts at one member and doubles up
    /// to the capacity (a class seen a few times holds a few members' bytes); past the capacity the
    /// oldest member is overwritten.
    /// </summary>
    private sealed class ClassSet(int capacity, int length)
    {
        private byte[] _members = new byte[length];
        private int _size;
        private int _next;
        private double _sum;
        private double _sumSquares;
        private int _distances;

        public double Threshold { get; private set; }

        public void Add(ReadOnlySpan<byte> features, double? distance)
        {
            if (_next == _size && _size * length == _members.Length && _size < capacity && length > 0)
            {
                // Full below the capacity: _next == _size, members 0 .. _size - 1 move as they are.
                var grown = new byte[Math.Min(capacity, 2 * _size) * length];
                _members.CopyTo(grown, 0);
                _members = grown;
            }

            features.CopyTo(_members.AsSpan(_next * length, length));
            _next = (_next + 1) % capacity;
            _size = Math.Min(_size + 1, capacity);
            if (distance is { } d)
            {
                _sum += d;
                _sumSquares += d * d;
                _distances++;
                var mean = _sum / _distances;
                var variance = Math.Max(0, (_sumSquares / _distances) - (mean * mean));
                Threshold = Math.Max(Threshold, mean - Math.Sqrt(variance));
            }
        }

        public long NearestSquared(ReadOnlySpan<byte> features)
        {
            var best = long.MaxValue;
            var members = _members.AsSpan(0, _size * length);
            for (var i = 0; i < _size; i++)
            {
                var d = FeatureDistance.SquaredL2(features, members.Slice(i * length, length));
                if (d < best)
                {
                    best = d;
                }
            }

            return best;
        }
    }
}
