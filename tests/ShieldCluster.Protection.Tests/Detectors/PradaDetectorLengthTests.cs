using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Protection.Tests.Detectors;

public class PradaDetectorLengthTests
{
    [Fact]
    public void Observe_OneLabelTwoInputLengths_KeepsASetPerLength()
    {
        // Two models of different input sizes behind one client, both answering class 1: before,
        // the second input's distance to the first threw (vectors of different lengths).
        var detector = new PradaDetector(new PradaOptions());
        var small = new byte[784];
        var large = new byte[1_024];
        Assert.Null(detector.Observe(1, small).Distance);
        Assert.Null(detector.Observe(1, large).Distance);
        var largeStep = (byte[])large.Clone();
        largeStep[1_000] = 6;
        Assert.Equal(6.0, detector.Observe(1, largeStep).Distance);
        var smallStep = (byte[])small.Clone();
        smallStep[3] = 8;
        Assert.Equal(8.0, detector.Observe(1, smallStep).Distance);
        var again = detector.Observe(1, smallStep);
        Assert.Null(again.Distance);
        Assert.Equal(2, again.Distances);
    }

    [Theory]
    [InlineData(1, 5, false, 1)]
    [InlineData(3, 12, false, 2)]
    [InlineData(6, 40, true, 3)]
    [InlineData(32, 100, true, 4)]
    public void Observe_RandomStreams_MatchAReferenceOfSeparateMemberArrays(int maxPerClass, int window, bool twoLengths, int seed)
    {
        // The reference is the earlier implementation (each member its own array, scanned in turn),
        // its class sets keyed by class and length as the detector's now are. Few labels and values
        // from a small alphabet make duplicates (distance 0, skipped), ties and full sets common.
        var options = new PradaOptions { MaxPerClass = maxPerClass, Window = window, MinDistances = Math.Min(window, 4) };
        var detector = new PradaDetector(options);
        var reference = new ReferencePrada(options);
        var random = new Random(seed);
        for (var i = 0; i < 3_000; i++)
        {
            var length = twoLengths && random.Next(2) == 0 ? 33 : 16;
            var features = new byte[length];
            for (var j = 0; j < length; j++)
            {
                features[j] = (byte)(random.Next(3) * 40);
            }

            var label = random.Next(4);
            Assert.Equal(reference.Observe(label, features), detector.Observe(label, features));
        }
    }

    private sealed class ReferencePrada(PradaOptions options)
    {
        private readonly Dictionary<(int, int), (List<byte[]> Members, int Next, double Sum, double Squares, int Count, double Threshold)> _sets = [];
        private readonly List<double> _window = [];
        private double? _w;

        public PradaObservation Observe(int label, byte[] features)
        {
            var key = (label, features.Length);
            if (!_sets.TryGetValue(key, out var set))
            {
                _sets[key] = ([(byte[])features.Clone()], 1 % options.MaxPerClass, 0, 0, 0, 0);
                return new PradaObservation(null, _w, _w < options.Delta, _window.Count);
            }

            var nearest = set.Members.Min(m => m.Zip(features, (a, b) => (long)(a - b) * (a - b)).Sum());
            if (nearest == 0)
            {
                return new PradaObservation(null, _w, _w < options.Delta, _window.Count);
            }

            var distance = Math.Sqrt(nearest);
            _window.Add(distance);
            if (_window.Count > options.Window)
            {
                _window.RemoveAt(0);
            }

            if (distance > set.Threshold)
            {
                if (set.Members.Count < options.MaxPerClass)
                {
                    set.Members.Add((byte[])features.Clone());
                }
                else
                {
                    set.Members[set.Next] = (byte[])features.Clone();
                }

                set.Next = (set.Next + 1) % options.MaxPerClass;
                set.Sum += distance;
                set.Squares += distance * distance;
                set.Count++;
                var mean = set.Sum / set.Count;
                var variance = Math.Max(0, (set.Squares / set.Count) - (mean * mean));
                set.Threshold = Math.Max(set.Threshold, mean - Math.Sqrt(variance));
                _sets[key] = set;
            }

            if (_window.Count >= options.MinDistances)
            {
                _w = ShieldCluster.Protection.Statistics.ShapiroWilk.StatisticOfSorted([.. _window.Order()]);
            }

            return new PradaObservation(distance, _w, _w < options.Delta, _window.Count);
        }
    }
}
