using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Protection.Tests.Detectors;

public class ExtractionCoverageTests
{
    [Fact]
    public void Measure_EvenOverEveryClass_CoversAll_AndWeighsOne()
    {
        var coverage = ExtractionCoverage.Measure([200, 200, 200, 200, 200, 200, 200, 200, 200, 200], 10);
        Assert.Equal(10, coverage.Seen);
        Assert.Equal(2_000, coverage.Answers);
        Assert.Equal(Math.Log2(10), coverage.EntropyBits, 9);
        Assert.Equal(1.0, coverage.Coverage, 9);
        Assert.Equal(1.0, ExtractionCoverage.Weight(coverage, 0.5), 9);
    }

    [Fact]
    public void Measure_OneClass_WeighsTheConcentratedWeight()
    {
        var coverage = ExtractionCoverage.Measure([0, 0, 0, 2_000], 10);
        Assert.Equal(1, coverage.Seen);
        Assert.Equal(0, coverage.EntropyBits, 9);
        Assert.Equal(0.1, coverage.Coverage, 9);
        Assert.Equal(0.5, ExtractionCoverage.Weight(coverage, 0.5), 9);
        Assert.Equal(0.25, ExtractionCoverage.Weight(coverage, 0.25), 9);
    }

    [Fact]
    public void Measure_TwoClassesEvenly_CoversAFifth()
    {
        var coverage = ExtractionCoverage.Measure([1_000, 1_000], 10);
        Assert.Equal(1.0, coverage.EntropyBits, 3);
        Assert.Equal(0.2, coverage.Coverage, 3);
        // (0.2 - 0.1) / 0.9 of the way from 0.5 to 1.
        Assert.Equal(0.5 + (0.5 / 9), ExtractionCoverage.Weight(coverage, 0.5), 3);
    }

    [Fact]
    public void Measure_SmallUniformSample_IsNotMistakenForConcentration()
    {
        // 30 answers of a uniform stream: the plug-in entropy alone reads about 8 effective classes.
        var random = new Random(5);
        var coverages = Enumerable.Range(0, 200).Select(_ =>
        {
            var counts = new long[10];
            for (var i = 0; i < 30; i++)
            {
                counts[random.Next(10)]++;
            }

            return ExtractionCoverage.Measure(counts, 10).Coverage;
        }).ToList();
        Assert.True(coverages.Average() > 0.9, $"mean coverage {coverages.Average():F3}");
    }

    [Fact]
    public void Measure_UnknownClassCount_UsesTheHistogram_AndEmptyCoversNothing()
    {
        Assert.Equal(4, ExtractionCoverage.Measure([1, 1, 1, 1], 0).Classes);
        var empty = ExtractionCoverage.Measure([], 10);
        Assert.Equal(0, empty.Coverage);
        Assert.Equal(1.0, ExtractionCoverage.Weight(empty, 0.5));
    }

    [Fact]
    public void Count_GrowsTheHistogram_IgnoresLabelsOutOfRange()
    {
        var counts = new List<long>();
        ExtractionCoverage.Count(counts, 3);
        ExtractionCoverage.Count(counts, 3);
        ExtractionCoverage.Count(counts, -1);
        ExtractionCoverage.Count(counts, ExtractionCoverage.MaxClasses);
        Assert.Equal([0L, 0L, 0L, 2L], counts);
    }

    [Fact]
    public void Weight_KnockoffTransferSet_OutweighsAConcentratedHonestStreamOfTheSameSize()
    {
        var knockoff = ExtractionCoverage.Measure([205, 195, 210, 190, 200, 202, 198, 199, 201, 200], 10);
        // Typical honest use: mostly two classes, now and then others.
        var honest = ExtractionCoverage.Measure([1_200, 700, 40, 20, 10, 10, 5, 5, 5, 5], 10);
        Assert.Equal(2_000, knockoff.Answers);
        Assert.Equal(2_000, honest.Answers);
        Assert.True(ExtractionCoverage.Weight(knockoff, 0.5) > 0.99);
        Assert.True(ExtractionCoverage.Weight(honest, 0.5) < 0.65, $"honest weight {ExtractionCoverage.Weight(honest, 0.5):F3}");
    }
}
