using ShieldCluster.Server.Http;
using Xunit;

namespace ShieldCluster.Server.Tests;

public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void A_small_rental_gets_a_whole_block_and_the_block_is_reused()
    {
        using var pool = new LargeBlockMemoryPoolFactory().Create();
        Assert.Equal(LargeBlockMemoryPoolFactory.BlockSize, pool.MaxBufferSize);

        var first = pool.Rent(4096);
        Assert.Equal(LargeBlockMemoryPoolFactory.BlockSize, first.Memory.Length);
        first.Memory.Span[^1] = 7;
        first.Dispose();

        using var second = pool.Rent(1);
        Assert.Same(first, second);
        Assert.Equal(7, second.Memory.Span[^1]);
    }

    [Fact]
    public void A_rental_larger_than_a_block_gets_an_array_of_its_own_that_is_never_pooled()
    {
        using var pool = new LargeBlockMemoryPoolFactory().Create();
        var large = pool.Rent(LargeBlockMemoryPoolFactory.BlockSize + 1);
        Assert.Equal(LargeBlockMemoryPoolFactory.BlockSize + 1, large.Memory.Length);
        large.Dispose();

        using var next = pool.Rent();
        Assert.NotSame(large, next);
        Assert.Equal(LargeBlockMemoryPoolFactory.BlockSize, next.Memory.Length);
    }

    [Fact]
    public void A_block_disposed_twice_goes_back_once()
    {
        using var pool = new LargeBlockMemoryPoolFactory().Create();
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();

        using var a = pool.Rent();
        using var b = pool.Rent();
        Assert.Same(block, a);
        Assert.NotSame(a, b);
    }

    [Fact]
    public void Returned_blocks_beyond_the_retained_count_are_dropped()
    {
        using var pool = new LargeBlockMemoryPool(blockSize: 16, retained: 2);
        var rented = Enumerable.Range(0, 3).Select(_ => pool.Rent()).ToList();
        rented.ForEach(b => b.Dispose());

        using var a = pool.Rent();
        using var b = pool.Rent();
        using var c = pool.Rent();
        Assert.Same(rented[0], a);
        Assert.Same(rented[1], b);
        Assert.DoesNotContain(c, rented);
    }

    [Fact]
    public void A_disposed_pool_refuses_rentals()
    {
        var pool = new LargeBlockMemoryPoolFactory().Create();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Rent());
    }
}
