using ShieldCluster.Grains.Clients;

namespace ShieldCluster.Grains.Tests;

/// <summary>The load-test diagnostics' period: what <c>SHIELD_STAGE_TIMINGS_PERIOD_MS</c> may set.</summary>
public class StageTimingsTests
{
    [Theory]
    [InlineData("1000", 1_000)]
    [InlineData("100", 100)]
    [InlineData("60000", 60_000)]
    [InlineData(null, 5_000)]
    [InlineData("", 5_000)]
    [InlineData("99", 5_000)]
    [InlineData("60001", 5_000)]
    [InlineData("-1000", 5_000)]
    [InlineData(" 1000", 5_000)]
    [InlineData("1e3", 5_000)]
    [InlineData("1000ms", 5_000)]
    [InlineData("99999999999", 5_000)]
    public void PeriodFrom_TakesWholeMillisecondsInRange_ElseFiveSeconds(string? value, int expected) =>
        Assert.Equal(expected, StageTimings.PeriodFrom(value));
}
