using ShieldCluster.Inference.Batching;

namespace ShieldCluster.Inference.Tests;

/// <summary>
/// A batch's inputs written into one buffer, on one thread or several: every value lands at its
/// part's offset, whatever the split, in FP32 and as half precision.
/// </summary>
public class BatchInputTests
{
    private static ReadOnlyMemory<float>[] Parts(int count, int total)
    {
        var parts = new ReadOnlyMemory<float>[count];
        var start = 0;
        for (var p = 0; p < count; p++)
        {
            // Uneven parts: the last takes what is left.
            var length = p == count - 1 ? total - start : (total / count) + (p % 3) - 1;
            parts[p] = Enumerable.Range(start, length).Select(i => (float)(i % 2048)).ToArray();
            start += length;
        }

        return parts;
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 4)]
    [InlineData(7, 3)]
    [InlineData(33, 8)]
    [InlineData(33, 64)]
    public void Parallel_copy_writes_every_part_at_its_offset(int parts, int threads)
    {
        var total = BatchInput.ParallelMinimum + 12_345;
        var input = new BatchInput(Parts(parts, total));
        var serial = new float[total + 5];
        var parallel = new float[total + 5];
        Array.Fill(parallel, -1f);
        Array.Fill(serial, -1f);

        input.CopyTo(serial, 1);
        input.CopyTo(parallel, threads);

        Assert.Equal(total, input.Length);
        Assert.Equal(Enumerable.Range(0, total).Select(i => (float)(i % 2048)), serial.Take(total));
        Assert.Equal(serial, parallel);
        Assert.All(parallel.Skip(total), v => Assert.Equal(-1f, v));
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(5, 4)]
    [InlineData(32, 16)]
    public void Parallel_conversion_to_half_matches_the_serial_one(int parts, int threads)
    {
        var total = BatchInput.ParallelMinimum + 999;
        var input = new BatchInput(Parts(parts, total));
        var serial = new Half[total];
        var parallel = new Half[total];

        input.ConvertTo(serial, 1);
        input.ConvertTo(parallel, threads);

        Assert.Equal(serial, parallel);
        Assert.Equal((Half)2047f, parallel[2047]);
        Assert.Equal((Half)0f, parallel[2048]);
        Assert.Equal((Half)((total - 1) % 2048), parallel[total - 1]);
    }

    [Fact]
    public void A_destination_shorter_than_the_input_is_refused_before_anything_is_written()
    {
        var input = new BatchInput(Parts(4, BatchInput.ParallelMinimum));
        var destination = new float[BatchInput.ParallelMinimum - 1];

        Assert.Throws<ArgumentOutOfRangeException>(() => input.CopyTo(destination, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => input.ConvertTo(new Half[10], 1));
        Assert.All(destination, v => Assert.Equal(0f, v));
    }
}
