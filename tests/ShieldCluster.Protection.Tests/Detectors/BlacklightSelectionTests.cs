using ShieldCluster.Protection.Detectors;

namespace ShieldCluster.Protection.Tests.Detectors;

public class BlacklightSelectionTests
{
    [Theory]
    [InlineData(17)]
    [InlineData(20)]
    [InlineData(24)]
    [InlineData(31)]
    [InlineData(32)]
    public void WindowHash_IsXxHash3WithTheSeed(int length)
    {
        var random = new Random(length);
        var data = new byte[length];
        foreach (var seed in new[] { 0L, 1L, -1L, long.MinValue, long.MaxValue, random.NextInt64(), random.NextInt64(long.MinValue, 0) })
        {
            var hash = new WindowHash(seed);
            for (var i = 0; i < 200; i++)
            {
                random.NextBytes(data);
                Assert.Equal(System.IO.Hashing.XxHash3.HashToUInt64(data, seed), hash.Hash17To32(data));
            }
        }
    }

    [Theory]
    [InlineData(0, 50, 1UL << 63)]
    [InlineData(10, 50, 1UL << 63)]
    [InlineData(765, 50, 0UL)]
    [InlineData(765, 50, 1UL << 60)]
    [InlineData(765, 50, 1UL << 40)]
    [InlineData(765, 1, 0UL)]
    [InlineData(3_000, 300, 0UL)]
    [InlineData(2_000, 50, ulong.MaxValue)]
    [InlineData(765, 50, 1UL)]
    public void Largest_IsTheLargestDistinctValuesLargestFirst(int count, int keep, ulong duplicateRange)
    {
        // Uniform values, or values with many repeats (drawn from a range, or repeated from a few
        // earlier ones), so the threshold meets ties, too few distinct values and its fallback.
        var random = new Random(count + keep);
        for (var round = 0; round < 50; round++)
        {
            var values = new ulong[count];
            for (var i = 0; i < count; i++)
            {
                values[i] = duplicateRange == 0 ? (ulong)random.NextInt64() * 2 + (ulong)random.Next(2)
                    : duplicateRange == ulong.MaxValue ? ulong.MaxValue - (ulong)random.Next(40)
                    : duplicateRange == 1 ? (ulong)random.Next(1_000)
                    : i > 0 && random.Next(3) == 0 ? values[random.Next(i)] : ulong.MaxValue - ((ulong)random.NextInt64() % duplicateRange);
            }

            var expected = values.Distinct().OrderByDescending(v => v).Take(keep).ToArray();
            Assert.Equal(expected, BlacklightFingerprinter.Largest(values.ToArray(), keep));
        }
    }
}
