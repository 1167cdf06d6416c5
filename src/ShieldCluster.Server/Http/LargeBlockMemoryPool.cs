using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace ShieldCluster.Server.Http;

/// <summary>
/// Kestrel's connection memory in blocks of <see cref="BlockSize"/> bytes instead of its default 4 KiB.
/// The socket transport receives into one pool block at a time, so a 602 KB image (a 3x224x224 FP32
/// tensor over Triton's binary extension or gRPC) took about 150 receive system calls with 4 KiB
/// blocks; with 64 KiB blocks it takes about 10. Connections wait for data before they take a
/// block, so idle connections hold none.
/// </summary>
public sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    /// <summary>Bytes per block.</summary>
    public const int BlockSize = 64 * 1024;

    /// <inheritdoc />
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool(BlockSize, retained: 4_096);
}

/// <summary>
/// A pool of pinned blocks of one size: a rental of up to the block size gets a whole block (the
/// socket transport then fills as much of it as has arrived); a larger rental gets an array of its
/// own. At most <c>retained</c> returned blocks are kept (256 MiB at 64 KiB); the rest go to the GC.
/// </summary>
internal sealed class LargeBlockMemoryPool(int blockSize, int retained) : MemoryPool<byte>
{
    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;
    private bool _disposed;

    public override int MaxBufferSize => blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (minBufferSize > blockSize)
        {
            return new Block(this, minBufferSize, pooled: false);
        }

        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            block.Rented = true;
            return block;
        }

        return new Block(this, blockSize, pooled: true);
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private void Return(Block block)
    {
        if (!_disposed && Interlocked.Increment(ref _freeCount) <= retained)
        {
            _free.Enqueue(block);
            return;
        }

        Interlocked.Decrement(ref _freeCount);
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly LargeBlockMemoryPool _pool;
        private readonly bool _pooled;

        public Block(LargeBlockMemoryPool pool, int length, bool pooled)
        {
            _pool = pool;
            _pooled = pooled;
            Memory = MemoryMarshal.CreateFromPinnedArray(GC.AllocateUninitializedArray<byte>(length, pinned: true), 0, length);
            Rented = true;
        }

        public Memory<byte> Memory { get; }

        public bool Rented { get; set; }

        public void Dispose()
        {
            // A block goes back once, however often its owner disposes it.
            if (!Rented)
            {
                return;
            }

            Rented = false;
            if (_pooled)
            {
                _pool.Return(this);
            }
        }
    }
}
