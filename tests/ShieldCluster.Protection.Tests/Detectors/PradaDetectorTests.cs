using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Protection.Tests.Detectors;

public class PradaDetectorTests
{
    private static PradaObservation Run(PradaDetector detector, IEnumerable<(int Label, float[] Image)> stream, Action<int, PradaObservation>? each = null)
    {
        PradaObservation last = default;
        var i = 0;
        foreach (var (label, image) in stream)
        {
            last = detector.Observe(label, QueryStreams.Features(image));
            each?.Invoke(i++, last);
        }

        return last;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Observe_HonestNaturalImages_NeverAlarm(int seed)
    {
        var detector = new PradaDetector(new PradaOptions());
        double minW = 1;
        Run(detector, QueryStreams.Honest(1000, seed), (_, o) => minW = Math.Min(minW, o.W ?? 1));
        Assert.True(minW >= new PradaOptions().Delta, $"honest stream reached W = {minW:F4}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Observe_JacobianAugmentation_AlarmsWithinAThousandQueries(int seed)
    {
        var detector = new PradaDetector(new PradaOptions());
        var firstAlarm = -1;
        Run(detector, QueryStreams.JacobianAugmentation(seeds: 10, rounds: 6, lambda: 0.1f, seed).Take(1000), (i, o) =>
        {
            if (o.Alarm && firstAlarm < 0)
            {
                firstAlarm = i;
            }
        });
        Assert.True(firstAlarm >= 0, "synthetic extraction was never detected");
        Assert.True(firstAlarm < 1000);
    }

    [Fact]
    public void Observe_DuplicateOfASetMember_IsSkipped()
    {
        var detector = new PradaDetector(new PradaOptions());
        var a = new byte[784];
        var b = Enumerable.Repeat((byte)200, 784).ToArray();
        detector.Observe(1, a);
        Assert.NotNull(detector.Observe(1, b).Distance);
        var duplicate = detector.Observe(1, b);
        Assert.Null(duplicate.Distance);
        Assert.Equal(1, duplicate.Distances);
    }

    [Fact]
    public void Observe_FirstQueryOfAClass_HasNoDistance_SecondHasOne()
    {
        var detector = new PradaDetector(new PradaOptions());
        var a = new byte[784];
        var b = new byte[784];
        b[0] = 3;
        b[1] = 4;
        Assert.Null(detector.Observe(2, a).Distance);
        Assert.Equal(5.0, detector.Observe(2, b).Distance);
        Assert.Null(detector.Observe(7, b).Distance);
    }

    [Fact]
    public void Observe_WindowBoundsTheDistancesKept()
    {
        var detector = new PradaDetector(new PradaOptions { Window = 100, MinDistances = 100 });
        var last = Run(detector, QueryStreams.Honest(400, seed: 4));
        Assert.Equal(100, last.Distances);
    }

    [Fact]
    public void Observe_PastTheWindow_WIsTheStatisticOfTheNewestDistances()
    {
        // The detector keeps its window sorted by insertion; W must equal the test over the newest
        // distances in arrival order, through many evictions (honest and synthetic streams mixed).
        var detector = new PradaDetector(new PradaOptions { Window = 60, MinDistances = 20 });
        var distances = new List<double>();
        var stream = QueryStreams.Honest(150, seed: 8).Concat(QueryStreams.Honest(150, seed: 9));
        Run(detector, stream, (_, observation) =>
        {
            if (observation.Distance is { } d)
            {
                distances.Add(d);
            }

            if (distances.Count >= 20 && observation.Distance is not null)
            {
                var newest = distances.Skip(Math.Max(0, distances.Count - 60)).ToArray();
                Assert.Equal(newest.Length, observation.Distances);
                Assert.Equal(new ShieldCluster.Protection.Statistics.ShapiroWilk().Statistic(newest), observation.W!.Value, 12);
            }
        });
        Assert.True(distances.Count > 200, $"{distances.Count} distances");
    }

    [Fact]
    public void Constructor_InvalidOptions_Throw()
    {
        Assert.Throws<ArgumentException>(() => new PradaDetector(new PradaOptions { Window = 2 }));
        Assert.Throws<ArgumentException>(() => new PradaDetector(new PradaOptions { MinDistances = 600, Window = 500 }));
        Assert.Throws<ArgumentException>(() => new PradaDetector(new PradaOptions { MaxPerClass = 0 }));
    }
}
