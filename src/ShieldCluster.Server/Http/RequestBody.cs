using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;

namespace ShieldCluster.Server.Http;

/// <summary>Reads (part of) a request body into a pooled buffer, refusing with 413 past the limit.</summary>
public sealed class RequestBody : IDisposable
{
    // Bodies of large tensors (a 224x224x3 FP32 image is 602 KB) come from a pool of their own that
    // keeps enough arrays for hundreds of concurrent requests; the shared pool keeps only a few per
    // core of each size, and every miss is a fresh large-object allocation.
    private static readonly ArrayPool<byte> Large = ArrayPool<byte>.Create(1 << 26, 512);
    private const int LargeFrom = 64 * 1024;

    private byte[] _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    /// <summary>Bytes read.</summary>
    public int Length { get; }

    /// <summary>The body.</summary>
    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>
    /// Reads the next <paramref name="maxLength"/> bytes of <paramref name="body"/>, or the rest of it
    /// if it ends first (<see cref="int.MaxValue"/>: the whole body); 413 past its limit.
    /// </summary>
    public static async Task<RequestBody> ReadAsync(BodyPipe body, int maxLength, CancellationToken cancellationToken)
    {
        var capacity = (int)Math.Min(maxLength, Math.Min(body.Allowance + 1, body.Remaining ?? 16 * 1024));
        var buffer = Pool(capacity).Rent(Math.Max(capacity, 1024));
        var length = 0;
        try
        {
            while (length < maxLength && body.Remaining != 0)
            {
                if (length == buffer.Length)
                {
                    var size = (int)Math.Min(maxLength, Math.Min(length + body.Allowance + 1, (long)buffer.Length * 2));
                    var larger = Pool(size).Rent(size);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    Pool(buffer.Length).Return(buffer);
                    buffer = larger;
                }

                var wanted = Math.Min(buffer.Length, maxLength) - length;
                var read = await body.ReadAsync(buffer, length, wanted, cancellationToken);
                length += read;
                if (read < wanted)
                {
                    break;
                }
            }

            return new RequestBody(buffer, length);
        }
        catch
        {
            Pool(buffer.Length).Return(buffer);
            throw;
        }
    }

    private static ArrayPool<byte> Pool(int length) => length >= LargeFrom ? Large : ArrayPool<byte>.Shared;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_buffer.Length > 0)
        {
            Pool(_buffer.Length).Return(_buffer);
            _buffer = [];
        }
    }
}

/// <summary>
/// A request body read from its pipe part by part, each part copied once from the connection's
/// buffers to where it is kept: a JSON document into a <see cref="RequestBody"/>, raw tensor bytes
/// straight into their float array. Every byte consumed counts against the limit: 413 past it,
/// whichever part was being read.
/// </summary>
public sealed class BodyPipe
{
    private readonly PipeReader _reader;
    private readonly long? _length;
    private readonly long _limit;
    private long _consumed;

    private BodyPipe(PipeReader reader, long? length, long limit)
    {
        _reader = reader;
        _length = length;
        _limit = limit;
    }

    /// <summary>Bytes the limit still admits.</summary>
    public long Allowance => _limit - _consumed;

    /// <summary>Bytes left by the request's <c>Content-Length</c>; null when it has none (chunked).</summary>
    public long? Remaining => _length - _consumed;

    /// <summary>The body of <paramref name="request"/>; 413 at once when its <c>Content-Length</c> is past <paramref name="limit"/> bytes.</summary>
    public static BodyPipe Open(HttpRequest request, long limit)
    {
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        return new BodyPipe(request.BodyReader, request.ContentLength, limit);
    }

    /// <summary>
    /// Copies the next <paramref name="count"/> bytes of the body into <paramref name="destination"/>'s
    /// memory from byte <paramref name="start"/> on; the bytes copied, fewer only where the body ended.
    /// </summary>
    public async ValueTask<int> ReadAsync<T>(T[] destination, int start, int count, CancellationToken cancellationToken)
        where T : unmanaged
    {
        var copied = 0;
        while (copied < count)
        {
            var result = await _reader.ReadAsync(cancellationToken);
            var take = (int)Math.Min(result.Buffer.Length, count - copied);
            result.Buffer.Slice(0, take).CopyTo(MemoryMarshal.AsBytes(destination.AsSpan()).Slice(start + copied, take));
            Consume(result.Buffer, take);
            copied += take;
            if (take == 0 && result.IsCompleted)
            {
                break;
            }
        }

        return copied;
    }

    /// <summary>Skips the next <paramref name="count"/> bytes of the body; the bytes skipped, fewer only where the body ended.</summary>
    public async ValueTask<long> SkipAsync(long count, CancellationToken cancellationToken)
    {
        long skipped = 0;
        while (skipped < count)
        {
            var result = await _reader.ReadAsync(cancellationToken);
            var take = Math.Min(result.Buffer.Length, count - skipped);
            Consume(result.Buffer, take);
            skipped += take;
            if (take == 0 && result.IsCompleted)
            {
                break;
            }
        }

        return skipped;
    }

    /// <summary>Reads the body to its end, keeping nothing; the bytes that were left.</summary>
    public ValueTask<long> DrainAsync(CancellationToken cancellationToken) => SkipAsync(long.MaxValue, cancellationToken);

    private void Consume(ReadOnlySequence<byte> buffer, long count)
    {
        _reader.AdvanceTo(buffer.GetPosition(count));
        _consumed += count;
        if (_consumed > _limit)
        {
            throw TooLarge(_limit);
        }
    }

    private static ApiException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"request body is larger than the limit of {limit} bytes");
}
