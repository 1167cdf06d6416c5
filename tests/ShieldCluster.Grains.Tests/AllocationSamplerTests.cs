using ShieldCluster.Grains.Clients;

namespace ShieldCluster.Grains.Tests;

/// <summary>The load-test diagnostics' allocation sampling: the runtime's allocation ticks counted by type.</summary>
public class AllocationSamplerTests
{
    [Fact]
    public async Task A_type_allocated_in_bulk_is_named_with_about_its_bytes_and_the_counts_reset()
    {
        using var sampler = new AllocationSampler();
        var kept = new List<SampledProbe[]>();
        string? seen = null;

        // The runtime's events reach a listener on a thread of its own, a moment after they happen.
        for (var attempt = 0; attempt < 50 && seen is null; attempt++)
        {
            for (var i = 0; i < 400; i++)
            {
                kept.Add(new SampledProbe[4_096]); // 32 KB each on 64-bit: 12.5 MB a round
            }

            kept.Clear();
            await Task.Delay(100);
            var top = sampler.TakeTop(20);
            seen = top.Split(' ').FirstOrDefault(p => p.Contains(nameof(SampledProbe), StringComparison.Ordinal));
        }

        Assert.NotNull(seen);
        // "type=KB": sampled every ~100 KB, so one round's 12.5 MB gives several megabytes at least.
        var kilobytes = long.Parse(seen[(seen.LastIndexOf('=') + 1)..^2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(kilobytes, 1_000, 1_000_000);

        // Taken counts are gone: once the last round's late events are in and taken, the type is not named again.
        await Task.Delay(1_000);
        sampler.TakeTop(int.MaxValue);
        Assert.DoesNotContain(nameof(SampledProbe), sampler.TakeTop(int.MaxValue), StringComparison.Ordinal);
    }

    private sealed class SampledProbe;
}
