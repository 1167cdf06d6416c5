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

    [Theory]
    [InlineData(784, 20)]
    [InlineData(784, 1)]
    [InlineData(784, 2)]
    [InlineData(64, 17)]
    [InlineData(65, 64)]
    [InlineData(200, 65)]
    [InlineData(300, 129)]
    [InlineData(33, 33)]
    [InlineData(5_000, 50)]
    public void WindowsToHash_MarksExactlyTheWindowsWhoseValuesAreNotAllEqual(int length, int window)
    {
        // Runs of equal values of every length (flat windows, ones that just fit a run, none), the
        // vectorised pairs and the scalar tail; and every window when flat ones are not skipped.
        var random = new Random(length * 131 + window);
        var windows = length - window + 1;
        for (var round = 0; round < 40; round++)
        {
            var raw = new byte[length];
            for (var i = 0; i < length;)
            {
                var run = random.Next(4) == 0 ? random.Next(1, 3 * window) : random.Next(1, 4);
                var value = (byte)random.Next(round % 2 == 0 ? 256 : 3);
                for (var end = Math.Min(length, i + run); i < end; i++)
                {
                    raw[i] = value;
                }
            }

            foreach (var skipFlat in new[] { true, false })
            {
                var hashed = new ulong[(length + 63) >> 6];
                Array.Fill(hashed, ulong.MaxValue);
                var marked = BlacklightFingerprinter.WindowsToHash(raw, window, windows, skipFlat, hashed);
                var expected = Enumerable.Range(0, windows).Where(i => !skipFlat || raw.AsSpan(i, window).IndexOfAnyExcept(raw[i]) >= 0).ToArray();
                var actual = Enumerable.Range(0, hashed.Length * 64).Where(i => (hashed[i >> 6] & (1UL << i)) != 0).ToArray();
                Assert.Equal(expected, actual);
                Assert.Equal(expected.Length, marked);
            }
        }
    }

    [Theory]
    [InlineData(20, 25, 50)]
    [InlineData(20, 25, 255)]
    [InlineData(20, 1, 50)]
    [InlineData(20, 50, 128)]
    [InlineData(16, 25, 50)]
    [InlineData(33, 10, 255)]
    public void Fingerprint_KeepsTheLargestDistinctOfEveryWindowHash_WhateverTheDuplicates(int window, int keep, int quantum)
    {
        // Against the same fingerprinter with room for every window (every hash passes, nothing is
        // selected): real images, and coarse quanta or blocky inputs whose many repeated windows leave
        // too few distinct hashes above the first threshold, so the fallback runs too.
        var secret = new byte[32];
        new Random(window + keep).NextBytes(secret);
        var options = new BlacklightOptions { Window = window, Keep = keep, Quantum = quantum };
        var fingerprinter = new BlacklightFingerprinter(options, secret, 784);
        var everything = new BlacklightFingerprinter(new BlacklightOptions { Window = window, Keep = 100_000, Quantum = quantum }, secret, 784);
        var random = new Random(quantum);
        for (var round = 0; round < 60; round++)
        {
            var image = round % 3 == 0
                ? [.. Enumerable.Range(0, 784).Select(i => (float)((i / (1 + round)) % 3) / 2f)]
                : ShieldCluster.Testing.FashionMnist.TestImage(random.Next(10_000));
            var all = everything.Fingerprint(image, 0, 1);
            Assert.Equal(all.Take(keep), fingerprinter.Fingerprint(image, 0, 1));
        }
    }
}
